/**
 * The `task: distill` part of the job-spec validator (docs/jobspec.md, "task: distill"):
 *
 * ```yaml
 * task: distill
 * model: { type: mlp, layers: [32, 16, 1], output: sigmoid, fromJob: fraud-train }
 * publicSet: { generator: fraud-public, seed: 7, rows: 20000 }
 * output: { labels: reveal, to: [bank-a] }
 * ```
 *
 * `model` states the architecture of the training job it names (checked against that job's spec when
 * the job runs), so that the approvers see which model labels what. The labels are predictions in
 * the policy's sense (`outputs.predictions`): the validated spec carries them as
 * `output: { model: 'reveal', to }`, which the policy check treats as a revealing job.
 */
import type { Node } from 'yaml';
import type { Checker, Entries } from './validate.js';
import type { DistillSpec, Member, ModelSpec, OutputPolicy } from './types.js';

/** The public-set generators (implemented in src/casestudy/public-set.ts). */
export const PUBLIC_GENERATORS = ['fraud-public', 'fraud-mixture'] as const;

/** Most public rows a distill job may label (memory of the comparisons is chunked; time is not). */
export const MAX_PUBLIC_ROWS = 1_000_000;

/**
 * Validate the distill keys. Reports every problem through `c`; returns the distill part and the
 * output policy for a distill spec, undefined otherwise (and refuses the distill keys elsewhere).
 */
export function validateDistill(
  c: Checker,
  top: Entries,
  m: Entries | null,
  task: string | undefined,
  model: ModelSpec | undefined,
  memberIndex: (node: Node | undefined, path: string, parent: Node) => number | undefined,
  members: readonly Member[],
): { spec: DistillSpec; output: OutputPolicy } | undefined {
  if (task !== 'distill') {
    if (top.has('publicSet')) c.at(top.get('publicSet'), 'publicSet', 'only for task distill');
    if (m?.has('fromJob')) c.at(m.get('fromJob'), 'model.fromJob', 'only for task distill');
    return undefined;
  }
  const R = top.node;
  for (const k of ['data', 'preprocessing'])
    if (top.has(k))
      c.at(top.get(k), k, `not used by task distill (the training job named by model.fromJob has its ${k})`);
  // model: the architecture plus fromJob
  let fromJob: string | undefined;
  if (m) {
    fromJob = c.str(m.need('fromJob', 'the id of the finished training job'), 'model.fromJob', m.node);
    if (m.has('init'))
      c.at(m.get('init'), 'model.init', 'not used by task distill (the trained parameters are)');
    if (model?.type === 'onnx')
      c.at(m.get('type'), 'model.type', 'distill needs the logreg or mlp architecture of the training job');
  }
  // publicSet
  let publicSet: DistillSpec['publicSet'] | undefined;
  const pNode = top.need('publicSet', 'a mapping {generator, seed, rows}: the public rows to label');
  const p = c.map(pNode, 'publicSet', ['generator', 'seed', 'rows'], R);
  if (p && pNode) {
    const generator = c.oneOf(
      p.need('generator', `one of ${PUBLIC_GENERATORS.join(', ')}`),
      'publicSet.generator',
      PUBLIC_GENERATORS,
      pNode,
    );
    const seed = c.num(p.need('seed', 'a public integer seed ≥ 0'), 'publicSet.seed', pNode, {
      int: true,
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const rows = c.num(p.need('rows', `the number of rows, 1..${MAX_PUBLIC_ROWS}`), 'publicSet.rows', pNode, {
      int: true,
      min: 1,
      max: MAX_PUBLIC_ROWS,
    });
    if (generator !== undefined && seed !== undefined && rows !== undefined)
      publicSet = { generator, seed, rows };
  }
  // output: { labels: reveal, to: [...] }
  const to: string[] = [];
  const oNode = top.need('output', 'a mapping {labels: reveal, to: [members]}: who receives the soft labels');
  const o = c.map(oNode, 'output', ['labels', 'to'], R);
  if (o && oNode) {
    c.oneOf(
      o.need('labels', 'reveal (the soft labels are opened to `to`)'),
      'output.labels',
      ['reveal'],
      oNode,
    );
    const toNode = o.get('to');
    const items = c.seq(o.need('to', 'the members who receive the labels, e.g. [org1]'), 'output.to', oNode);
    items?.forEach((it, i) => {
      const k = memberIndex(it, `output.to[${i}]`, toNode!);
      if (k !== undefined) to.push(members[k]!.name);
    });
    if (items && items.length === 0) c.at(toNode, 'output.to', 'name at least one member');
  }
  if (fromJob === undefined || publicSet === undefined || to.length === 0) return undefined;
  return { spec: { fromJob, publicSet }, output: { model: 'reveal', to } };
}
