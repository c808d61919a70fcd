/**
 * Compile a circuit into a layered schedule for bulk execution, and run it against a gate backend.
 *
 * Layers: the AND depth of a wire is 0 for inputs and constants, max(inputs) for XOR/INV/EQW, and
 * max(inputs)+1 for AND. Stage s runs first every AND gate of depth s (one batch: their inputs are
 * all of depth < s, so a backend can hash the whole batch with one cipher call), then every linear
 * gate of depth s in file order. This is a valid topological order.
 *
 * Slots: wires are mapped to a small number of storage slots by liveness in that order (a slot is
 * reused once its wire is dead), so the label memory of a batched run is slots × instances × 16
 * bytes rather than wires × instances × 16. Outputs of an AND batch never share a slot with an input
 * of the same batch; a linear gate may write the slot of its own input (the backends compute
 * element-wise, so that is safe).
 *
 * The backend interface is the "abstract gate backend" of the design: the clear-text backend below
 * is the test oracle, src/protocols/gc/halfgates.ts holds the garbler and evaluator backends.
 */
import { ShareholdError } from '../../errors.js';
import {
  OP_AND,
  OP_CONST0,
  OP_CONST1,
  OP_EQW,
  OP_INV,
  OP_XOR,
  validateCircuit,
  type Circuit,
} from './circuit.js';

export interface Schedule {
  readonly nSlots: number;
  /** Slot of every bit of every input value. */
  readonly inputSlots: readonly Int32Array[];
  /** Slot of every bit of every output value. */
  readonly outputSlots: readonly Int32Array[];
  readonly nStages: number;
  /** AND gates as slot triples [a, b, out], stage by stage. */
  readonly ands: Int32Array;
  /** Stage s's AND gates are triples andStart[s] .. andStart[s+1]-1. */
  readonly andStart: Int32Array;
  /** Linear gates as [op, a, b, out] slot records (op: XOR, INV, EQW, CONST0, CONST1). */
  readonly lins: Int32Array;
  readonly linStart: Int32Array;
  readonly andCount: number;
  readonly gateCount: number;
}

/** Compile a circuit (validated first). Dead gates are dropped. */
export function compileSchedule(c: Circuit): Schedule {
  validateCircuit(c);
  const g = c.gates;
  const nG = g.length >> 2;
  // Dead gate elimination.
  const live = new Uint8Array(c.nWires);
  for (const v of c.outputs) for (const w of v) live[w] = 1;
  const keep = new Uint8Array(nG);
  for (let k = nG - 1; k >= 0; k--) {
    const i = k << 2;
    if (!live[g[i + 3]!]) continue;
    keep[k] = 1;
    const op = g[i]!;
    if (op === OP_XOR || op === OP_AND) {
      live[g[i + 1]!] = 1;
      live[g[i + 2]!] = 1;
    } else if (op === OP_INV || op === OP_EQW) live[g[i + 1]!] = 1;
  }
  // Depths and stage membership.
  const depth = new Int32Array(c.nWires);
  const stageOf = new Int32Array(nG);
  let nStages = 1;
  for (let k = 0; k < nG; k++) {
    if (!keep[k]) continue;
    const i = k << 2;
    const op = g[i]!;
    let d = 0;
    if (op === OP_XOR || op === OP_AND) d = Math.max(depth[g[i + 1]!]!, depth[g[i + 2]!]!);
    else if (op === OP_INV || op === OP_EQW) d = depth[g[i + 1]!]!;
    if (op === OP_AND) d++;
    depth[g[i + 3]!] = d;
    stageOf[k] = d;
    if (d + 1 > nStages) nStages = d + 1;
  }
  const andCountPer = new Int32Array(nStages + 1);
  const linCountPer = new Int32Array(nStages + 1);
  let andCount = 0;
  let gateCount = 0;
  for (let k = 0; k < nG; k++) {
    if (!keep[k]) continue;
    gateCount++;
    if (g[k << 2] === OP_AND) {
      andCountPer[stageOf[k]! + 1]!++;
      andCount++;
    } else linCountPer[stageOf[k]! + 1]!++;
  }
  for (let s = 0; s < nStages; s++) {
    andCountPer[s + 1] = andCountPer[s + 1]! + andCountPer[s]!;
    linCountPer[s + 1] = linCountPer[s + 1]! + linCountPer[s]!;
  }
  // Execution order: gate indices grouped by stage (ANDs then linear), file order within a group.
  const andOrder = new Int32Array(andCount);
  const linOrder = new Int32Array(gateCount - andCount);
  const andFill = andCountPer.slice();
  const linFill = linCountPer.slice();
  for (let k = 0; k < nG; k++) {
    if (!keep[k]) continue;
    const s = stageOf[k]!;
    if (g[k << 2] === OP_AND) andOrder[andFill[s]!++] = k;
    else linOrder[linFill[s]!++] = k;
  }
  // Last use time of every wire. Time: AND batch of stage s reads at one instant, then each linear gate.
  const INF = 0x7fffffff;
  const lastUse = new Int32Array(c.nWires).fill(-1);
  for (const v of c.outputs) for (const w of v) lastUse[w] = INF;
  let time = 0;
  const stamp = (w: number): void => {
    if (lastUse[w]! !== INF && lastUse[w]! < time) lastUse[w] = time;
  };
  for (let s = 0; s < nStages; s++) {
    time++;
    for (let j = andCountPer[s]!; j < andCountPer[s + 1]!; j++) {
      const i = andOrder[j]! << 2;
      stamp(g[i + 1]!);
      stamp(g[i + 2]!);
    }
    for (let j = linCountPer[s]!; j < linCountPer[s + 1]!; j++) {
      time++;
      const i = linOrder[j]! << 2;
      const op = g[i]!;
      if (op === OP_XOR) {
        stamp(g[i + 1]!);
        stamp(g[i + 2]!);
      } else if (op === OP_INV || op === OP_EQW) stamp(g[i + 1]!);
    }
  }
  // Slot allocation, replaying the same order.
  const slotOf = new Int32Array(c.nWires).fill(-1);
  const free: number[] = [];
  let nSlots = 0;
  const alloc = (w: number): number => {
    const s = free.length > 0 ? free.pop()! : nSlots++;
    slotOf[w] = s;
    return s;
  };
  const release = (w: number, t: number): void => {
    if (lastUse[w] === t && slotOf[w]! >= 0) {
      free.push(slotOf[w]!);
      lastUse[w] = -2; // released once
    }
  };
  const inputSlots = c.inputs.map((v) => Int32Array.from(v, (w) => alloc(w)));
  // Inputs nobody reads free their slot at once (time 0).
  for (const v of c.inputs) for (const w of v) if (lastUse[w] === -1) free.push(slotOf[w]!);
  const ands = new Int32Array(3 * andCount);
  const lins = new Int32Array(4 * (gateCount - andCount));
  time = 0;
  for (let s = 0; s < nStages; s++) {
    time++;
    const a0 = andCountPer[s]!;
    const a1 = andCountPer[s + 1]!;
    for (let j = a0; j < a1; j++) {
      const i = andOrder[j]! << 2;
      ands[3 * j] = slotOf[g[i + 1]!]!;
      ands[3 * j + 1] = slotOf[g[i + 2]!]!;
      ands[3 * j + 2] = alloc(g[i + 3]!);
    }
    for (let j = a0; j < a1; j++) {
      const i = andOrder[j]! << 2;
      release(g[i + 1]!, time);
      release(g[i + 2]!, time);
    }
    for (let j = a0; j < a1; j++) {
      const o = g[(andOrder[j]! << 2) + 3]!;
      if (lastUse[o] === -1) {
        free.push(slotOf[o]!); // never read (cannot happen after DCE unless an input-less output)
        lastUse[o] = -2;
      }
    }
    for (let j = linCountPer[s]!; j < linCountPer[s + 1]!; j++) {
      time++;
      const i = linOrder[j]! << 2;
      const op = g[i]!;
      const a = op === OP_CONST0 || op === OP_CONST1 ? 0 : slotOf[g[i + 1]!]!;
      const b = op === OP_XOR ? slotOf[g[i + 2]!]! : a;
      if (op === OP_XOR) {
        release(g[i + 1]!, time);
        release(g[i + 2]!, time);
      } else if (op === OP_INV || op === OP_EQW) release(g[i + 1]!, time);
      const o = g[i + 3]!;
      const so = alloc(o);
      lins[4 * j] = op;
      lins[4 * j + 1] = a;
      lins[4 * j + 2] = b;
      lins[4 * j + 3] = so;
      if (lastUse[o] === -1) {
        free.push(so);
        lastUse[o] = -2;
      }
    }
  }
  const outputSlots = c.outputs.map((v) => Int32Array.from(v, (w) => slotOf[w]!));
  return {
    nSlots: Math.max(nSlots, 1),
    inputSlots,
    outputSlots,
    nStages,
    ands,
    andStart: andCountPer.subarray(0, nStages + 1),
    lins,
    linStart: linCountPer.subarray(0, nStages + 1),
    andCount,
    gateCount,
  };
}

/**
 * A gate backend holds the wire values (bits, labels, …) of `instances` parallel copies of a
 * circuit in `nSlots` slots and executes batches of gates on all copies at once.
 */
export interface GateBackend {
  /** Linear records `lins[4·from .. 4·to)`: [op, a, b, out] on slots. */
  linear(lins: Int32Array, from: number, to: number): void;
  /** AND triples `ands[3·from .. 3·to)`, all independent. May await (streaming). */
  and(ands: Int32Array, from: number, to: number): Promise<void> | void;
}

/** Run every stage of `s` on `backend`. */
export async function runSchedule(s: Schedule, backend: GateBackend): Promise<void> {
  for (let st = 0; st < s.nStages; st++) {
    const a0 = s.andStart[st]!;
    const a1 = s.andStart[st + 1]!;
    if (a1 > a0) {
      const p = backend.and(s.ands, a0, a1);
      if (p) await p;
    }
    const l0 = s.linStart[st]!;
    const l1 = s.linStart[st + 1]!;
    if (l1 > l0) backend.linear(s.lins, l0, l1);
  }
}

/** Clear-text backend: one byte (0/1) per wire per instance. The test oracle. */
export class ClearBackend implements GateBackend {
  readonly bits: Uint8Array;
  constructor(
    readonly nSlots: number,
    readonly instances: number,
  ) {
    this.bits = new Uint8Array(nSlots * instances);
  }

  linear(lins: Int32Array, from: number, to: number): void {
    const v = this.bits;
    const n = this.instances;
    for (let j = from; j < to; j++) {
      const op = lins[4 * j]!;
      const a = lins[4 * j + 1]! * n;
      const b = lins[4 * j + 2]! * n;
      const o = lins[4 * j + 3]! * n;
      switch (op) {
        case OP_XOR:
          for (let i = 0; i < n; i++) v[o + i] = v[a + i]! ^ v[b + i]!;
          break;
        case OP_INV:
          for (let i = 0; i < n; i++) v[o + i] = v[a + i]! ^ 1;
          break;
        case OP_EQW:
          for (let i = 0; i < n; i++) v[o + i] = v[a + i]!;
          break;
        case OP_CONST0:
          v.fill(0, o, o + n);
          break;
        case OP_CONST1:
          v.fill(1, o, o + n);
          break;
        default:
          throw new ShareholdError('invalid-argument', `unknown linear op ${op}`);
      }
    }
  }

  and(ands: Int32Array, from: number, to: number): void {
    const v = this.bits;
    const n = this.instances;
    for (let j = from; j < to; j++) {
      const a = ands[3 * j]! * n;
      const b = ands[3 * j + 1]! * n;
      const o = ands[3 * j + 2]! * n;
      for (let i = 0; i < n; i++) v[o + i] = v[a + i]! & v[b + i]!;
    }
  }
}

/**
 * Evaluate `instances` copies in the clear through the schedule. `inputs[k]` holds input value k for
 * every instance, instance-major (instance i's bits at i·width .. ), one bit per byte; outputs alike.
 */
export async function evaluateClear(
  s: Schedule,
  inputs: readonly Uint8Array[],
  instances = 1,
): Promise<Uint8Array[]> {
  if (inputs.length !== s.inputSlots.length)
    throw new ShareholdError(
      'shape-mismatch',
      `circuit takes ${s.inputSlots.length} inputs, got ${inputs.length}`,
    );
  const be = new ClearBackend(s.nSlots, instances);
  s.inputSlots.forEach((slots, k) => {
    const w = slots.length;
    const x = inputs[k]!;
    if (x.length !== w * instances)
      throw new ShareholdError(
        'shape-mismatch',
        `input ${k}: expected ${w * instances} bits, got ${x.length}`,
      );
    for (let i = 0; i < instances; i++)
      for (let b = 0; b < w; b++) be.bits[slots[b]! * instances + i] = x[i * w + b]! & 1;
  });
  await runSchedule(s, be);
  return s.outputSlots.map((slots) => {
    const w = slots.length;
    const out = new Uint8Array(w * instances);
    for (let i = 0; i < instances; i++)
      for (let b = 0; b < w; b++) out[i * w + b] = be.bits[slots[b]! * instances + i]!;
    return out;
  });
}
