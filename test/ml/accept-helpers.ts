/** Shared helpers of the training acceptance tests (not a test file). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadSpec, type JobSpec } from '../../src/spec/index.js';
import { dataPath, repoRoot } from '../data/paths.js';

export interface Reference {
  metrics: { test_accuracy: number; test_correct: number; n_test: number };
  loss_history: { values: number[] };
  parameters: Record<string, unknown>;
  initial_parameters: Record<string, unknown>;
}

export function reference(name: string): Reference {
  return JSON.parse(readFileSync(dataPath(`reference/${name}.json`), 'utf8')) as Reference;
}

export function flat(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v as number];
}

/** An example spec, with the model revealed to every member (to compare it with the reference). */
export function exampleRevealed(name: string): JobSpec {
  const spec = loadSpec(resolve(repoRoot, 'examples', `${name}.yaml`));
  return { ...spec, output: { model: 'reveal', to: spec.members.map((m) => m.name) } };
}

export type Revealed = Record<string, { shape: number[]; values: number[] }>;

/** max |p − p_ref| over every parameter. */
export function maxParamError(model: Revealed, ref: Record<string, unknown>): number {
  let err = 0;
  for (const [name, p] of Object.entries(model)) {
    const r = flat(ref[name]);
    if (r.length !== p.values.length)
      throw new Error(`${name}: ${p.values.length} values, reference ${r.length}`);
    p.values.forEach((v, i) => (err = Math.max(err, Math.abs(v - r[i]!))));
  }
  return err;
}

/** max |a − b| between two revealed models with the same names. */
export function maxModelDiff(a: Revealed, b: Revealed): number {
  let d = 0;
  for (const [name, p] of Object.entries(a))
    p.values.forEach((v, i) => (d = Math.max(d, Math.abs(v - b[name]!.values[i]!))));
  return d;
}
