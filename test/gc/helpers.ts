import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memoryNetwork } from '../../src/net/memory.js';
import { OpScope } from '../../src/protocols/channel.js';
import { CircuitBuilder } from '../../src/protocols/gc/builder.js';
import { parseBristol, type Circuit } from '../../src/protocols/gc/circuit.js';
import {
  GcSession,
  type BitSource,
  type GcRunOptions,
  type GcRunResult,
} from '../../src/protocols/gc/twoparty.js';

/** Path of a vector inside the repository (tests never read outside it). */
export function vectorPath(name: string): string {
  return fileURLToPath(new URL(`../../../test/vectors/bristol/${name}`, import.meta.url));
}

const cache = new Map<string, Circuit>();
export function loadCircuit(name: string): Circuit {
  let c = cache.get(name);
  if (!c) {
    c = parseBristol(readFileSync(vectorPath(name), 'utf8'), { name });
    cache.set(name, c);
  }
  return c;
}

export const AES_KEY = '000102030405060708090a0b0c0d0e0f';
export const AES_PT = '00112233445566778899aabbccddeeff';
export const AES_CT = '69c4e0d86a7b0430d8cdb78070b4c55a';
export const SHA_IV = '6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19';
export const SHA_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
/** The padded one-block message "abc" (FIPS 180-4 §5.1.1) as hex. */
export const SHA_ABC_BLOCK = '616263' + '80' + '00'.repeat(59) + '18';

/** Open a garbling session between two in-memory parties (party 0 garbles). */
export async function sessionPair(): Promise<[GcSession, GcSession]> {
  const [a, b] = memoryNetwork(2, { timeoutMs: 30000 });
  const [s0, s1] = await Promise.all([
    GcSession.open(a!, new OpScope('setup')),
    GcSession.open(b!, new OpScope('setup')),
  ]);
  return [s0, s1];
}

let shared: Promise<[GcSession, GcSession]> | undefined;
/** One session pair shared by the tests of a file (base OTs cost ~0.5 s per pair). */
export function sharedSessionPair(): Promise<[GcSession, GcSession]> {
  return (shared ??= sessionPair());
}

let runCounter = 0;
/** Run a circuit on both parties of a session pair. inputs[p][k] = party p's input k. */
export async function run2(
  pair: [GcSession, GcSession],
  circuit: Circuit,
  inputs: [(BitSource | undefined)[], (BitSource | undefined)[]],
  opts: GcRunOptions = {},
): Promise<[GcRunResult, GcRunResult]> {
  const id = `run${runCounter++}`;
  const [r0, r1] = await Promise.all([
    pair[0].run(new OpScope(id), circuit, inputs[0], opts),
    pair[1].run(new OpScope(id), circuit, inputs[1], opts),
  ]);
  return [r0, r1];
}

/** Uniform random bits, one per byte. */
export function randomBits(n: number): Uint8Array {
  return Uint8Array.from(randomBytes(n), (b) => b & 1);
}

/** A random well-formed circuit (for differential tests of the engines). */
export function randomCircuit(nIn: number[], nGates: number, nOut: number, rnd: () => number): Circuit {
  const b = new CircuitBuilder();
  const wires: number[] = [];
  for (const w of nIn) wires.push(...b.input(w));
  for (let g = 0; g < nGates; g++) {
    const a = wires[rnd() % wires.length]!;
    const c = wires[rnd() % wires.length]!;
    const op = rnd() % 5;
    wires.push(op < 2 ? b.and(a, c) : op < 4 ? b.xor(a, c) : b.not(a));
  }
  const outs: number[] = [];
  for (let i = 0; i < nOut; i++) outs.push(wires[wires.length - 1 - (rnd() % Math.min(wires.length, 40))]!);
  b.output(outs);
  return b.build();
}
