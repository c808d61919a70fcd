/**
 * Boolean circuits: the in-memory representation shared by the parser, the builders, the clear-text
 * oracle and the garbling engine, plus readers for the two Bristol text formats.
 *
 * Representation. Gates are a flat Int32Array of 4-word records `[op, a, b, out]` in a topological
 * order (every input wire is written before it is read). Wires are numbered 0..nWires-1. An input
 * or output *value* is a list of wires, least significant bit first (see "Bit order" below).
 *
 * Formats (see docs/gc.md):
 * - Bristol Fashion: `ngates nwires` / `niv s_1..s_niv` / `nov t_1..t_nov` / blank / gates. Input
 *   values occupy wires 0.. in order; output values are the last sum(t) wires, in order.
 * - Old Bristol: `ngates nwires` / `n1 n2 nout` / gates. Two inputs (wires 0..n1-1, then n2 wires),
 *   outputs are the last nout wires.
 * Gate lines: `nin nout in_1..in_nin out_1..out_nout OP` with OP in XOR, AND, INV (NOT), EQW, EQ
 * (constant: the input "wire" is the literal 0 or 1) and MAND (nin = 2k inputs a_1..a_k b_1..b_k,
 * k outputs, expanded to k AND gates).
 *
 * Bit order: within a value, wire i carries bit i counted from the least significant bit. This is
 * the Bristol Fashion convention for the arithmetic circuits; for AES and SHA-256 the byte strings
 * of FIPS-197/180-4 map onto it through `bytesToBitsMsbFirst` + reversal, as worked out in
 * docs/gc.md and checked by the FIPS test vectors.
 */
import { ShareholdError } from '../../errors.js';

export const OP_XOR = 0;
export const OP_AND = 1;
export const OP_INV = 2;
/** Wire copy. */
export const OP_EQW = 3;
/** out := constant 0 (a and b unused). */
export const OP_CONST0 = 4;
/** out := constant 1. */
export const OP_CONST1 = 5;

export type GateOp =
  typeof OP_XOR | typeof OP_AND | typeof OP_INV | typeof OP_EQW | typeof OP_CONST0 | typeof OP_CONST1;

export interface Circuit {
  readonly nWires: number;
  /** Flat `[op, a, b, out]` records in topological order. */
  readonly gates: Int32Array;
  /** Input values: each is its wires, least significant bit first. */
  readonly inputs: readonly Int32Array[];
  /** Output values: each is its wires, least significant bit first. */
  readonly outputs: readonly Int32Array[];
}

export function gateCount(c: Circuit): number {
  return c.gates.length >> 2;
}

export function andCount(c: Circuit): number {
  let n = 0;
  for (let i = 0; i < c.gates.length; i += 4) if (c.gates[i] === OP_AND) n++;
  return n;
}

export function inputBits(c: Circuit): number {
  return c.inputs.reduce((s, v) => s + v.length, 0);
}

export function outputBits(c: Circuit): number {
  return c.outputs.reduce((s, v) => s + v.length, 0);
}

function malformed(file: string, line: number, message: string): ShareholdError {
  return new ShareholdError('circuit-malformed', `${file}:${line}: ${message}`, { file, line });
}

/**
 * Check that a circuit is well formed: wires in range, every wire written once before it is read,
 * inputs written only by the environment, output wires defined. Throws `circuit-malformed`.
 */
export function validateCircuit(c: Circuit, name = 'circuit'): void {
  const defined = new Uint8Array(c.nWires);
  for (const v of c.inputs)
    for (const w of v) {
      if (!(w >= 0 && w < c.nWires)) throw malformed(name, 0, `input wire ${w} out of range`);
      if (defined[w]) throw malformed(name, 0, `input wire ${w} appears twice`);
      defined[w] = 1;
    }
  const g = c.gates;
  if (g.length % 4 !== 0) throw malformed(name, 0, 'gate array length is not a multiple of 4');
  for (let i = 0; i < g.length; i += 4) {
    const op = g[i]!;
    const a = g[i + 1]!;
    const b = g[i + 2]!;
    const o = g[i + 3]!;
    const nin = op === OP_XOR || op === OP_AND ? 2 : op === OP_INV || op === OP_EQW ? 1 : 0;
    if (op < 0 || op > 5) throw malformed(name, 0, `gate ${i >> 2}: unknown op ${op}`);
    if (nin >= 1 && !(a >= 0 && a < c.nWires && defined[a]))
      throw malformed(name, 0, `gate ${i >> 2}: wire ${a} read before it is written`);
    if (nin === 2 && !(b >= 0 && b < c.nWires && defined[b]))
      throw malformed(name, 0, `gate ${i >> 2}: wire ${b} read before it is written`);
    if (!(o >= 0 && o < c.nWires)) throw malformed(name, 0, `gate ${i >> 2}: output wire ${o} out of range`);
    if (defined[o]) throw malformed(name, 0, `gate ${i >> 2}: wire ${o} written twice`);
    defined[o] = 1;
  }
  for (const v of c.outputs)
    for (const w of v)
      if (!(w >= 0 && w < c.nWires && defined[w]))
        throw malformed(name, 0, `output wire ${w} is never written`);
}

export type BristolFormat = 'fashion' | 'old' | 'auto';

/**
 * Parse a Bristol Fashion or old-Bristol circuit. Errors carry the file name and 1-based line
 * number (`circuit-malformed`). `auto` tells the formats apart by the header: Bristol Fashion's
 * second line is `niv` followed by exactly niv sizes and its third line `nov` followed by nov sizes.
 */
export function parseBristol(text: string, opts: { name?: string; format?: BristolFormat } = {}): Circuit {
  const name = opts.name ?? 'circuit';
  const lines = text.split('\n');
  let ln = 0;
  const nextNonEmpty = (): { tokens: string[]; line: number } | undefined => {
    while (ln < lines.length) {
      const raw = lines[ln++]!.trim();
      if (raw !== '') return { tokens: raw.split(/\s+/), line: ln };
    }
    return undefined;
  };
  const int = (tok: string | undefined, line: number, what: string): number => {
    if (tok === undefined || !/^\d+$/.test(tok))
      throw malformed(name, line, `expected ${what}, got ${JSON.stringify(tok ?? '')}`);
    const v = Number(tok);
    if (!Number.isSafeInteger(v) || v > 0x7fffffff) throw malformed(name, line, `${what} ${tok} too large`);
    return v;
  };

  const h1 = nextNonEmpty();
  if (!h1) throw malformed(name, 1, 'empty file');
  if (h1.tokens.length !== 2) throw malformed(name, h1.line, 'header must be `ngates nwires`');
  const nGates = int(h1.tokens[0], h1.line, 'gate count');
  const nWires = int(h1.tokens[1], h1.line, 'wire count');
  const h2 = nextNonEmpty();
  if (!h2) throw malformed(name, ln, 'missing input header');
  const h2n = h2.tokens.map((t) => int(t, h2.line, 'size'));

  // Decide the format from lines 2 and 3.
  let format = opts.format ?? 'auto';
  const save = ln;
  const h3 = nextNonEmpty();
  ln = save;
  if (format === 'auto') {
    const looksFashion2 = h2n.length === h2n[0]! + 1;
    const h3n = h3?.tokens.every((t) => /^\d+$/.test(t)) ? h3.tokens.map(Number) : undefined;
    const looksFashion3 = h3n !== undefined && h3n.length === h3n[0]! + 1;
    format = looksFashion2 && looksFashion3 ? 'fashion' : 'old';
  }

  let inSizes: number[];
  let outSizes: number[];
  if (format === 'fashion') {
    if (h2n.length !== h2n[0]! + 1) throw malformed(name, h2.line, 'input header must be `niv s_1 .. s_niv`');
    inSizes = h2n.slice(1);
    const h3r = nextNonEmpty();
    if (!h3r) throw malformed(name, ln, 'missing output header');
    const h3n = h3r.tokens.map((t) => int(t, h3r.line, 'size'));
    if (h3n.length !== h3n[0]! + 1)
      throw malformed(name, h3r.line, 'output header must be `nov t_1 .. t_nov`');
    outSizes = h3n.slice(1);
  } else {
    if (h2n.length !== 3) throw malformed(name, h2.line, 'old Bristol input header must be `n1 n2 nout`');
    inSizes = [h2n[0]!, h2n[1]!];
    outSizes = [h2n[2]!];
  }
  const totalIn = inSizes.reduce((a, b) => a + b, 0);
  const totalOut = outSizes.reduce((a, b) => a + b, 0);
  if (totalIn > nWires) throw malformed(name, h2.line, 'more input wires than wires');
  if (totalOut > nWires) throw malformed(name, h2.line, 'more output wires than wires');

  const gates: number[] = [];
  const written = new Uint8Array(nWires);
  for (let w = 0; w < totalIn; w++) written[w] = 1;
  const wire = (tok: string | undefined, line: number): number => {
    const w = int(tok, line, 'wire number');
    if (w >= nWires) throw malformed(name, line, `wire ${w} out of range (nwires ${nWires})`);
    return w;
  };
  const readWire = (tok: string | undefined, line: number): number => {
    const w = wire(tok, line);
    if (!written[w]) throw malformed(name, line, `wire ${w} is read before it is written`);
    return w;
  };
  const writeWire = (tok: string | undefined, line: number): number => {
    const w = wire(tok, line);
    if (written[w]) throw malformed(name, line, `wire ${w} is written twice (or is an input)`);
    written[w] = 1;
    return w;
  };
  let parsed = 0;
  for (;;) {
    const g = nextNonEmpty();
    if (!g) break;
    const t = g.tokens;
    const line = g.line;
    parsed++;
    if (parsed > nGates) throw malformed(name, line, `more gates than the ${nGates} declared`);
    if (t.length < 3) throw malformed(name, line, 'gate line too short');
    const nin = int(t[0], line, 'input count');
    const nout = int(t[1], line, 'output count');
    const op = t[t.length - 1]!;
    if (t.length !== 3 + nin + nout)
      throw malformed(
        name,
        line,
        `gate declares ${nin} inputs and ${nout} outputs but has ${t.length - 3} wires`,
      );
    const ins = t.slice(2, 2 + nin);
    const outs = t.slice(2 + nin, 2 + nin + nout);
    const arity = (i: number, o: number): void => {
      if (nin !== i || nout !== o)
        throw malformed(name, line, `${op} takes ${i} input(s) and ${o} output(s)`);
    };
    switch (op) {
      case 'XOR':
      case 'AND': {
        arity(2, 1);
        const a = readWire(ins[0], line);
        const b = readWire(ins[1], line);
        gates.push(op === 'XOR' ? OP_XOR : OP_AND, a, b, writeWire(outs[0], line));
        break;
      }
      case 'INV':
      case 'NOT': {
        arity(1, 1);
        const a = readWire(ins[0], line);
        gates.push(OP_INV, a, a, writeWire(outs[0], line));
        break;
      }
      case 'EQW': {
        arity(1, 1);
        const a = readWire(ins[0], line);
        gates.push(OP_EQW, a, a, writeWire(outs[0], line));
        break;
      }
      case 'EQ': {
        arity(1, 1);
        if (ins[0] !== '0' && ins[0] !== '1') throw malformed(name, line, 'EQ takes a constant 0 or 1');
        gates.push(ins[0] === '1' ? OP_CONST1 : OP_CONST0, 0, 0, writeWire(outs[0], line));
        break;
      }
      case 'MAND': {
        if (nin !== 2 * nout || nout === 0) throw malformed(name, line, 'MAND takes 2k inputs and k outputs');
        const as = ins.slice(0, nout).map((x) => readWire(x, line));
        const bs = ins.slice(nout).map((x) => readWire(x, line));
        for (let k = 0; k < nout; k++) gates.push(OP_AND, as[k]!, bs[k]!, writeWire(outs[k], line));
        break;
      }
      default:
        throw malformed(name, line, `unknown gate type ${JSON.stringify(op)}`);
    }
  }
  if (parsed !== nGates) throw malformed(name, ln, `declared ${nGates} gates but found ${parsed}`);

  const inputs: Int32Array[] = [];
  let w = 0;
  for (const s of inSizes) {
    inputs.push(Int32Array.from({ length: s }, (_, i) => w + i));
    w += s;
  }
  const outputs: Int32Array[] = [];
  w = nWires - totalOut;
  for (const s of outSizes) {
    const v = Int32Array.from({ length: s }, (_, i) => w + i);
    for (const x of v) if (!written[x]) throw malformed(name, ln, `output wire ${x} is never written`);
    outputs.push(v);
    w += s;
  }
  return { nWires, gates: Int32Array.from(gates), inputs, outputs };
}

/**
 * Reference evaluation of one instance in the clear, gate by gate in file order: the simplest
 * possible oracle (independent of the layered engine). Bits are 0/1 bytes, LSB first per value.
 */
export function evaluatePlain(c: Circuit, inputs: readonly Uint8Array[]): Uint8Array[] {
  if (inputs.length !== c.inputs.length)
    throw new ShareholdError(
      'shape-mismatch',
      `circuit takes ${c.inputs.length} inputs, got ${inputs.length}`,
    );
  const v = new Uint8Array(c.nWires);
  c.inputs.forEach((ws, k) => {
    const bits = inputs[k]!;
    if (bits.length !== ws.length)
      throw new ShareholdError('shape-mismatch', `input ${k} has ${ws.length} bits, got ${bits.length}`);
    ws.forEach((w, i) => (v[w] = bits[i]! & 1));
  });
  const g = c.gates;
  for (let i = 0; i < g.length; i += 4) {
    const a = v[g[i + 1]!]!;
    const b = v[g[i + 2]!]!;
    const o = g[i + 3]!;
    switch (g[i]) {
      case OP_XOR:
        v[o] = a ^ b;
        break;
      case OP_AND:
        v[o] = a & b;
        break;
      case OP_INV:
        v[o] = a ^ 1;
        break;
      case OP_EQW:
        v[o] = a;
        break;
      case OP_CONST0:
        v[o] = 0;
        break;
      default:
        v[o] = 1;
    }
  }
  return c.outputs.map((ws) => Uint8Array.from(ws, (w) => v[w]!));
}
