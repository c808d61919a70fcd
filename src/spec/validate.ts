/**
 * Job-spec parser and validator. The YAML is parsed with the `yaml` package keeping source ranges;
 * every problem is collected (not just the first) as `file:line:col: path: message`, where the message
 * says what would be valid. See docs/jobspec.md for the format.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node, type YAMLMap } from 'yaml';
import { ShareholdError } from '../errors.js';
import { validateDistill } from './distill.js';
import type {
  Activation,
  ClassWeight,
  DatasetRef,
  DataSpec,
  InitSpec,
  JobSpec,
  Member,
  ModelSpec,
  OutputPolicy,
  Preprocessing,
  Scheme,
  SchemeName,
  SpecIssue,
  Training,
  InferInput,
} from './types.js';

export interface ValidateOptions {
  /** Also check that every referenced file exists (default false: a party may only have its own). */
  readonly checkFiles?: boolean;
}

export type ValidateResult = { ok: true; spec: JobSpec } | { ok: false; issues: SpecIssue[] };

/** Format issues one per line, `file:line:col: path: message`. */
export function formatIssues(issues: readonly SpecIssue[]): string {
  return issues
    .map((i) => `${i.file}:${i.line}:${i.col}: ${i.path ? i.path + ': ' : ''}${i.message}`)
    .join('\n');
}

export class Checker {
  readonly issues: SpecIssue[] = [];
  constructor(
    readonly file: string,
    readonly lc: LineCounter,
    readonly baseDir: string,
    readonly checkFiles: boolean,
  ) {}

  at(node: Node | null | undefined, path: string, message: string, fallback?: Node | null): void {
    const n = node ?? fallback;
    const off = n?.range?.[0] ?? 0;
    const { line, col } = this.lc.linePos(off);
    this.issues.push({ file: this.file, line, col, path, message });
  }

  /** A mapping with known keys; unknown keys are reported. Returns a getter, or null. */
  map(
    node: Node | null | undefined,
    path: string,
    keys: readonly string[],
    parent?: Node | null,
  ): Entries | null {
    if (!node) return null;
    if (!isMap(node)) {
      this.at(node, path, `must be a mapping with keys ${keys.join(', ')}`, parent);
      return null;
    }
    const m = node as YAMLMap<Node, Node>;
    for (const pair of m.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (!keys.includes(k))
        this.at(pair.key, join(path, k), `unknown key '${k}'; valid keys here: ${keys.join(', ')}`);
    }
    return new Entries(this, m, path);
  }

  str(node: Node | undefined, path: string, parent: Node): string | undefined {
    if (!node) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') {
      this.at(node, path, 'must be a non-empty string', parent);
      return undefined;
    }
    return node.value;
  }

  oneOf<T extends string>(
    node: Node | undefined,
    path: string,
    values: readonly T[],
    parent: Node,
  ): T | undefined {
    if (!node) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'string' || !values.includes(v as T)) {
      this.at(
        node,
        path,
        `must be one of ${values.join(', ')}${isScalar(node) ? ` (got '${String(v)}')` : ''}`,
        parent,
      );
      return undefined;
    }
    return v as T;
  }

  num(
    node: Node | undefined,
    path: string,
    parent: Node,
    o: { int?: boolean; min?: number; max?: number; gt?: number; lt?: number },
  ): number | undefined {
    if (!node) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    const what = [
      o.int ? 'an integer' : 'a number',
      o.min !== undefined ? `≥ ${o.min}` : '',
      o.gt !== undefined ? `> ${o.gt}` : '',
      o.max !== undefined ? `≤ ${o.max}` : '',
      o.lt !== undefined ? `< ${o.lt}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      (o.int && !Number.isInteger(v)) ||
      (o.min !== undefined && v < o.min) ||
      (o.max !== undefined && v > o.max) ||
      (o.gt !== undefined && v <= o.gt) ||
      (o.lt !== undefined && v >= o.lt)
    ) {
      this.at(
        node,
        path,
        `must be ${what}${isScalar(node) ? ` (got ${JSON.stringify(node.value)})` : ''}`,
        parent,
      );
      return undefined;
    }
    return v;
  }

  bool(node: Node | undefined, path: string, parent: Node): boolean | undefined {
    if (!node) return undefined;
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      this.at(node, path, 'must be true or false', parent);
      return undefined;
    }
    return node.value;
  }

  strList(node: Node | undefined, path: string, parent: Node): string[] | undefined {
    if (!node) return undefined;
    if (!isSeq(node)) {
      this.at(node, path, 'must be a list of strings', parent);
      return undefined;
    }
    const out: string[] = [];
    node.items.forEach((it, i) => {
      const s = this.str(it as Node, `${path}[${i}]`, node);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  seq(node: Node | undefined, path: string, parent: Node): Node[] | undefined {
    if (!node) return undefined;
    if (!isSeq(node)) {
      this.at(node, path, 'must be a list', parent);
      return undefined;
    }
    return node.items as Node[];
  }

  path(node: Node | undefined, path: string, parent: Node, ext?: string): string | undefined {
    const s = this.str(node, path, parent);
    if (s === undefined) return undefined;
    const abs = resolve(this.baseDir, s);
    if (ext && !s.endsWith(ext)) this.at(node, path, `must name a ${ext} file (got '${s}')`, parent);
    if (this.checkFiles && !existsSync(abs))
      this.at(
        node,
        path,
        `file not found: '${s}' (resolved to ${abs}; paths are relative to the spec file)`,
        parent,
      );
    return abs;
  }
}

export class Entries {
  constructor(
    readonly c: Checker,
    readonly node: YAMLMap<Node, Node>,
    readonly path: string,
  ) {}
  has(k: string): boolean {
    return this.node.has(k);
  }
  get(k: string): Node | undefined {
    // `key:` with nothing after it is a null scalar, reported by the type check of its caller
    return this.node.get(k, true) ?? undefined;
  }
  need(k: string, what: string): Node | undefined {
    const v = this.get(k);
    if (v === undefined && !this.has(k)) this.c.at(this.node, join(this.path, k), `missing; ${what}`);
    return v;
  }
  p(k: string): string {
    return join(this.path, k);
  }
}

function join(path: string, k: string): string {
  return path ? `${path}.${k}` : k;
}

const SCHEMES: readonly SchemeName[] = ['rep3', 'rep4', 'shamir', 'additive'];
const ACTIVATIONS: readonly Activation[] = ['relu', 'sigmoid', 'tanh', 'none'];

/** Parse and validate spec text. `file` is used for messages and to resolve relative paths. */
export function validateSpecText(text: string, file: string, opts: ValidateOptions = {}): ValidateResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const c = new Checker(file, lc, dirname(resolve(file)), opts.checkFiles ?? false);
  for (const e of doc.errors) {
    const { line, col } = lc.linePos(e.pos[0]);
    c.issues.push({ file, line, col, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (doc.errors.length > 0) return { ok: false, issues: c.issues };
  const root = doc.contents as Node | null;
  if (!root) {
    c.issues.push({ file, line: 1, col: 1, path: '', message: 'empty spec' });
    return { ok: false, issues: c.issues };
  }
  const top = c.map(root, '', [
    'version',
    'name',
    'task',
    'members',
    'scheme',
    'fixedPoint',
    'data',
    'preprocessing',
    'model',
    'training',
    'input',
    'output',
    'publicSet',
  ]);
  if (!top) return { ok: false, issues: c.issues };
  const R = root;

  const version = c.num(top.need('version', 'must be 1'), 'version', R, { int: true, min: 1, max: 1 });
  const name = c.str(top.need('name', 'a job name'), 'name', R);
  const task = c.oneOf(
    top.need('task', 'one of train, infer, distill'),
    'task',
    ['train', 'infer', 'distill'] as const,
    R,
  );

  // members
  const members: Member[] = [];
  const memberNode = top.need('members', 'the list of parties, e.g. [org1, org2, org3]');
  const mlist = c.strList(memberNode, 'members', R);
  if (mlist) {
    mlist.forEach((m, i) => {
      if (members.some((x) => x.name === m))
        c.at((memberNode as { items: Node[] }).items[i], `members[${i}]`, `'${m}' appears twice`);
      members.push({ name: m, index: i });
    });
    if (mlist.length < 2) c.at(memberNode, 'members', 'needs at least 2 members');
  }
  const memberIndex = (node: Node | undefined, path: string, parent: Node): number | undefined => {
    const s = c.str(node, path, parent);
    if (s === undefined) return undefined;
    const m = members.find((x) => x.name === s);
    if (!m && mlist) {
      c.at(node, path, `'${s}' is not a member; members: ${mlist.join(', ')}`, parent);
      return undefined;
    }
    return m?.index;
  };

  // scheme
  let scheme: Scheme | undefined;
  const sNode = top.need('scheme', 'a mapping with name: rep3 | rep4 | shamir | additive');
  const s = c.map(sNode, 'scheme', ['name', 'threshold', 'prep', 'compare'], R);
  if (s && sNode) {
    const sname = c.oneOf(s.need('name', `one of ${SCHEMES.join(', ')}`), 'scheme.name', SCHEMES, sNode);
    const n = members.length;
    if (sname) {
      const fixed = sname === 'rep3' ? 3 : sname === 'rep4' ? 4 : undefined;
      if (fixed !== undefined && mlist && n !== fixed)
        c.at(memberNode, 'members', `${sname} runs on exactly ${fixed} parties; members lists ${n}`);
      if (sname === 'shamir' && mlist && n < 3)
        c.at(memberNode, 'members', `shamir needs at least 3 parties (has ${n})`);
      let threshold: number | undefined;
      if (sname === 'shamir') {
        threshold = c.num(
          s.need('threshold', 'the Shamir threshold t, 1 ≤ t < n/2'),
          'scheme.threshold',
          sNode,
          {
            int: true,
            min: 1,
            lt: n / 2,
          },
        );
      } else if (s.has('threshold')) c.at(s.get('threshold'), 'scheme.threshold', 'only for scheme shamir');
      let prep: 'dealer' | 'ot' | undefined;
      let compare: 'ss' | 'gc' | undefined;
      if (sname === 'additive') {
        prep = s.has('prep')
          ? c.oneOf(s.get('prep'), 'scheme.prep', ['dealer', 'ot'] as const, sNode)
          : 'dealer';
        compare = s.has('compare')
          ? c.oneOf(s.get('compare'), 'scheme.compare', ['ss', 'gc'] as const, sNode)
          : 'ss';
        if (compare === 'gc' && n !== 2)
          c.at(
            s.get('compare'),
            'scheme.compare',
            `gc comparisons need exactly 2 parties (has ${n}); use ss`,
          );
      } else {
        if (s.has('prep')) c.at(s.get('prep'), 'scheme.prep', 'only for scheme additive');
        if (s.has('compare')) c.at(s.get('compare'), 'scheme.compare', 'only for scheme additive');
      }
      scheme = { name: sname, parties: n, threshold, prep, compare };
    }
  }

  // fixed point
  let f = 16;
  if (top.has('fixedPoint')) {
    const fpNode = top.get('fixedPoint');
    const fp = c.map(fpNode, 'fixedPoint', ['f'], R);
    if (fp && fpNode)
      f =
        c.num(fp.need('f', 'fractional bits, 0..30'), 'fixedPoint.f', fpNode, {
          int: true,
          min: 0,
          max: 30,
        }) ?? f;
  }

  // data
  let data: DataSpec | undefined;
  const dNode =
    task === 'train'
      ? top.need('data', 'the training data (partition, label, train, test)')
      : top.get('data');
  const d = c.map(dNode, 'data', ['partition', 'label', 'schema', 'train', 'test', 'validation'], R);
  const weightNodes: WeightNode[] = [];
  if (d && dNode) {
    const partition = c.oneOf(
      d.need('partition', 'horizontal (owners hold rows) or vertical (owners hold columns)'),
      'data.partition',
      ['horizontal', 'vertical'] as const,
      dNode,
    );
    const label = c.str(d.need('label', 'the name of the label column'), 'data.label', dNode);
    const schemaOf = (node: Node | undefined, path: string, parent: Node) => {
      const sm = c.map(node, path, ['columns', 'integer'], parent);
      if (!sm || !node) return undefined;
      const colNode = sm.need('columns', 'a list of column names, or the number of columns');
      let columns: string[] | number | undefined;
      if (colNode && isScalar(colNode))
        columns = c.num(colNode, sm.p('columns'), node, { int: true, min: 1 });
      else columns = c.strList(colNode, sm.p('columns'), node);
      if (Array.isArray(columns)) {
        const dup = columns.find((x, i) => columns.indexOf(x) !== i);
        if (dup) c.at(colNode, sm.p('columns'), `column '${dup}' appears twice`);
      }
      const integer = sm.has('integer') ? c.strList(sm.get('integer'), sm.p('integer'), node) : [];
      if (Array.isArray(columns) && integer)
        for (const k of integer)
          if (!columns.includes(k))
            c.at(sm.get('integer'), sm.p('integer'), `'${k}' is not one of the columns`);
      return columns === undefined ? undefined : { columns, integer: integer ?? [] };
    };
    const common = d.has('schema') ? schemaOf(d.get('schema'), 'data.schema', dNode) : undefined;
    const datasets = (key: 'train' | 'test' | 'validation', required: boolean): DatasetRef[] => {
      const listNode = required ? d.need(key, 'a list of {member, file[, schema]}') : d.get(key);
      const items = c.seq(listNode, d.p(key), dNode);
      const out: DatasetRef[] = [];
      if (!items || !listNode) return out;
      if (items.length === 0) c.at(listNode, d.p(key), 'must list at least one dataset');
      items.forEach((it, i) => {
        const p = `${d.p(key)}[${i}]`;
        const e = c.map(it, p, ['member', 'file', 'schema', 'classWeight'], listNode);
        if (!e) return;
        const cw = entryClassWeight(c, key, e.get('classWeight'), e.p('classWeight'), it, weightNodes);
        const party = memberIndex(e.need('member', 'the member holding this file'), e.p('member'), it);
        const file = c.path(e.need('file', 'a CSV path relative to the spec file'), e.p('file'), it, '.csv');
        const own = e.has('schema') ? schemaOf(e.get('schema'), e.p('schema'), it) : undefined;
        const sch = own ?? common;
        if (!own && !common && !e.has('schema'))
          c.at(it, p, 'no schema: give data.schema (shared) or a schema for this dataset');
        if (
          sch &&
          label &&
          partition === 'horizontal' &&
          Array.isArray(sch.columns) &&
          !sch.columns.includes(label)
        )
          c.at(it, p, `schema has no label column '${label}'`);
        if (party !== undefined && file !== undefined && sch)
          out.push({
            member: members[party]!.name,
            party,
            file,
            columns: sch.columns,
            integerColumns: sch.integer,
            ...(cw !== undefined ? { classWeight: cw } : {}),
          });
        if (partition === 'horizontal' && own && common)
          c.at(
            e.get('schema'),
            e.p('schema'),
            'horizontal partition: all owners share data.schema; remove this one',
          );
      });
      const seen = new Set<string>();
      out.forEach((r) => {
        if (partition === 'vertical' && seen.has(r.member))
          c.at(listNode, d.p(key), `vertical partition: member '${r.member}' is listed twice`);
        seen.add(r.member);
      });
      if (partition === 'vertical' && label) {
        const withLabel = out.filter((r) => Array.isArray(r.columns) && r.columns.includes(label));
        if (out.length > 0 && out.every((r) => Array.isArray(r.columns)) && withLabel.length !== 1)
          c.at(
            listNode,
            d.p(key),
            `vertical partition: exactly one owner's schema must hold the label '${label}' (found ${withLabel.length})`,
          );
        const all: string[] = out.flatMap((r) => (typeof r.columns === 'number' ? [] : [...r.columns]));
        const dup = all.find((x, i) => all.indexOf(x) !== i);
        if (dup) c.at(listNode, d.p(key), `vertical partition: column '${dup}' is held by two owners`);
      }
      return out;
    };
    const train = datasets('train', true);
    const test = datasets('test', false);
    const validation = datasets('validation', false);
    for (const [key, set] of [
      ['test', test],
      ['validation', validation],
    ] as const)
      if (partition === 'vertical' && set.length > 0 && train.length > 0) {
        const tm = set.map((r) => r.member).join(',');
        const rm = train.map((r) => r.member).join(',');
        if (tm !== rm)
          c.at(
            d.get(key),
            `data.${key}`,
            `vertical partition: ${key} files must come from the same members as train, in the same order (${rm})`,
          );
      }
    if (partition && label) data = { partition, label, train, test, validation };
  }

  // preprocessing
  let preprocessing: Preprocessing = { standardize: false };
  if (top.has('preprocessing')) {
    const pn = top.get('preprocessing');
    const pp = c.map(pn, 'preprocessing', ['standardize', 'divideBy'], R);
    if (pp && pn) {
      const st = pp.has('standardize')
        ? c.bool(pp.get('standardize'), 'preprocessing.standardize', pn)
        : false;
      const div = pp.has('divideBy')
        ? c.num(pp.get('divideBy'), 'preprocessing.divideBy', pn, { gt: 0 })
        : undefined;
      preprocessing = { standardize: st ?? false, ...(div !== undefined ? { divideBy: div } : {}) };
    }
  }

  // model
  let model: ModelSpec | undefined;
  const mNode = top.need('model', 'a mapping with type: logreg | mlp | onnx');
  const m = c.map(
    mNode,
    'model',
    ['type', 'layers', 'activation', 'output', 'init', 'file', 'owner', 'fromJob'],
    R,
  );
  if (m && mNode) {
    const type = c.oneOf(
      m.need('type', 'one of logreg, mlp, onnx'),
      'model.type',
      ['logreg', 'mlp', 'onnx'] as const,
      mNode,
    );
    const only = (keys: string[], t: string): void => {
      for (const k of ['layers', 'activation', 'output', 'init', 'file', 'owner'])
        if (!keys.includes(k) && m.has(k)) c.at(m.get(k), m.p(k), `not used by model type ${t}`);
    };
    const init = (): InitSpec => {
      if (!m.has('init')) return { kind: 'zeros' };
      const n = m.get('init');
      if (n && isScalar(n) && n.value === 'zeros') return { kind: 'zeros' };
      const im = c.map(n, 'model.init', ['seed', 'file', 'key'], mNode);
      if (!im || !n) return { kind: 'zeros' };
      if (im.has('seed')) {
        const seed = c.num(im.get('seed'), 'model.init.seed', n, { int: true, min: 0 });
        return { kind: 'seed', seed: seed ?? 0 };
      }
      const file = c.path(
        im.need('file', 'zeros, {seed: N}, or {file: params.json, key: name}'),
        'model.init.file',
        n,
        '.json',
      );
      const key = im.has('key') ? c.str(im.get('key'), 'model.init.key', n) : 'initial_parameters';
      return { kind: 'file', file: file ?? '', key: key ?? 'initial_parameters' };
    };
    if (type === 'logreg') {
      only(['init'], type);
      model = { type, init: init() };
    } else if (type === 'mlp') {
      only(['layers', 'activation', 'output', 'init'], type);
      const ln = m.need('layers', 'the output size of every Linear layer, e.g. [16, 16, 1]');
      const items = c.seq(ln, 'model.layers', mNode);
      const layers: number[] = [];
      items?.forEach((it, i) => {
        const v = c.num(it, `model.layers[${i}]`, ln!, { int: true, min: 1 });
        if (v !== undefined) layers.push(v);
      });
      if (items && items.length === 0) c.at(ln, 'model.layers', 'must list at least one layer size');
      const activation = m.has('activation')
        ? c.oneOf(m.get('activation'), 'model.activation', ACTIVATIONS, mNode)
        : 'relu';
      const output = m.has('output')
        ? c.oneOf(m.get('output'), 'model.output', [...ACTIVATIONS, 'softmax'] as const, mNode)
        : 'none';
      model = { type, layers, activation: activation ?? 'relu', output: output ?? 'none', init: init() };
    } else if (type === 'onnx') {
      only(['file', 'owner'], type);
      const file = c.path(
        m.need('file', 'an .onnx path relative to the spec file'),
        'model.file',
        mNode,
        '.onnx',
      );
      const owner = memberIndex(m.need('owner', 'the member that holds the model'), 'model.owner', mNode);
      if (file !== undefined && owner !== undefined) model = { type, file, owner: members[owner]!.name };
    }
    if (task === 'train' && type === 'onnx')
      c.at(m.get('type'), 'model.type', 'training needs logreg or mlp (onnx is for task infer)');
    if (task === 'infer' && type && type !== 'onnx' && !m.has('init'))
      c.at(
        m.get('type'),
        'model.type',
        'inference needs a model: type onnx, or init: {file, key} with trained parameters',
      );
  }

  // training
  let training: Training | undefined;
  if (task === 'train') {
    const tNode = top.need('training', 'hyper-parameters: epochs, batchSize, lr, optimizer, loss');
    const t = c.map(
      tNode,
      'training',
      [
        'epochs',
        'batchSize',
        'lr',
        'optimizer',
        'momentum',
        'beta1',
        'beta2',
        'eps',
        'loss',
        'shuffle',
        'shuffleSeed',
        'classWeight',
        'validationThresholds',
      ],
      R,
    );
    if (t && tNode) {
      const epochs = c.num(t.need('epochs', 'a positive integer'), 'training.epochs', tNode, {
        int: true,
        min: 1,
      });
      const batchSize = c.num(t.need('batchSize', 'a positive integer'), 'training.batchSize', tNode, {
        int: true,
        min: 1,
      });
      const lr = c.num(t.need('lr', 'the learning rate, > 0'), 'training.lr', tNode, { gt: 0 });
      const optimizer = t.has('optimizer')
        ? c.oneOf(t.get('optimizer'), 'training.optimizer', ['sgd', 'momentum', 'adam'] as const, tNode)
        : 'sgd';
      const loss = c.oneOf(
        t.need('loss', 'one of bce, mse, cross-entropy'),
        'training.loss',
        ['bce', 'mse', 'cross-entropy'] as const,
        tNode,
      );
      const unit = { min: 0, lt: 1 };
      const momentum =
        optimizer === 'momentum'
          ? c.num(t.need('momentum', 'the momentum coefficient, 0 ≤ β < 1'), 'training.momentum', tNode, unit)
          : undefined;
      if (optimizer !== 'momentum' && t.has('momentum'))
        c.at(t.get('momentum'), 'training.momentum', 'only with optimizer: momentum');
      const beta1 =
        optimizer === 'adam' && t.has('beta1')
          ? c.num(t.get('beta1'), 'training.beta1', tNode, unit)
          : undefined;
      const beta2 =
        optimizer === 'adam' && t.has('beta2')
          ? c.num(t.get('beta2'), 'training.beta2', tNode, unit)
          : undefined;
      const eps =
        optimizer === 'adam' && t.has('eps')
          ? c.num(t.get('eps'), 'training.eps', tNode, { gt: 0 })
          : undefined;
      for (const k of ['beta1', 'beta2', 'eps'])
        if (optimizer !== 'adam' && t.has(k)) c.at(t.get(k), `training.${k}`, 'only with optimizer: adam');
      const shuffle = t.has('shuffle') ? c.bool(t.get('shuffle'), 'training.shuffle', tNode) : false;
      if (model && loss) {
        const out = model.type === 'logreg' ? 'sigmoid' : model.type === 'mlp' ? model.output : undefined;
        if (loss === 'bce' && out !== undefined && out !== 'sigmoid')
          c.at(
            t.get('loss'),
            'training.loss',
            `bce needs a sigmoid output (model.output is ${out}); use cross-entropy for softmax/logits`,
          );
        if (loss === 'cross-entropy' && out === 'sigmoid')
          c.at(
            t.get('loss'),
            'training.loss',
            'cross-entropy needs softmax or logits output (model.output: softmax or none); use bce for a sigmoid',
          );
      }
      const extras = trainingExtras(c, t, tNode, shuffle ?? false, {
        loss,
        lossNode: t.get('loss'),
        model,
        data,
        weightNodes,
      });
      if (epochs && batchSize && lr && optimizer && loss)
        training = {
          ...extras,
          epochs,
          batchSize,
          lr,
          optimizer,
          loss,
          shuffle: shuffle ?? false,
          ...(momentum !== undefined ? { momentum } : {}),
          ...(optimizer === 'adam' ? { beta1: beta1 ?? 0.9, beta2: beta2 ?? 0.999, eps: eps ?? 1e-8 } : {}),
        };
    }
  } else if (top.has('training')) c.at(top.get('training'), 'training', 'only for task train');

  // inference input
  let input: InferInput | undefined;
  if (task === 'infer') {
    const iNode = top.need('input', 'a mapping {member, file}: the querier and its inputs');
    const im = c.map(iNode, 'input', ['member', 'file'], R);
    if (im && iNode) {
      const party = memberIndex(im.need('member', 'the querier'), 'input.member', iNode);
      const file = c.path(
        im.need('file', 'a .json or .csv path relative to the spec file'),
        'input.file',
        iNode,
      );
      if (party !== undefined && file !== undefined) input = { member: members[party]!.name, file };
      if (model?.type === 'onnx' && party !== undefined && model.owner === members[party]!.name)
        c.at(im.get('member'), 'input.member', 'the querier must differ from the model owner');
    }
  } else if (top.has('input')) c.at(top.get('input'), 'input', 'only for task infer');

  // task distill: model.fromJob, publicSet, output (src/spec/distill.ts)
  const distill = validateDistill(c, top, m, task, model, memberIndex, members);

  // output policy
  let output: OutputPolicy = distill?.output ?? { model: 'shared', to: [] };
  if (top.has('output') && task !== 'distill') {
    const oNode = top.get('output');
    const o = c.map(oNode, 'output', ['model', 'to'], R);
    if (o && oNode) {
      const mode = c.oneOf(
        o.need('model', 'shared (stays secret-shared) or reveal'),
        'output.model',
        ['shared', 'reveal'] as const,
        oNode,
      );
      const toNode = o.get('to');
      const to: string[] = [];
      if (mode === 'reveal') {
        const items = c.seq(
          o.need('to', 'the members who receive the model, e.g. [org1]'),
          'output.to',
          oNode,
        );
        items?.forEach((it, i) => {
          const k = memberIndex(it, `output.to[${i}]`, toNode!);
          if (k !== undefined) to.push(members[k]!.name);
        });
        if (items && items.length === 0)
          c.at(toNode, 'output.to', 'name at least one member (or use model: shared)');
      } else if (mode === 'shared' && o.has('to')) c.at(toNode, 'output.to', 'only with model: reveal');
      if (mode) output = { model: mode, to };
    }
  }

  if (c.issues.length > 0 || !scheme || !model || version !== 1 || !name || !task) {
    if (c.issues.length === 0) c.at(root, '', 'invalid spec');
    return { ok: false, issues: c.issues };
  }
  const spec: JobSpec = {
    version: 1,
    name,
    task,
    file: resolve(file),
    members,
    scheme,
    fixedPoint: { f },
    preprocessing,
    model,
    output,
    ...(data ? { data } : {}),
    ...(training ? { training } : {}),
    ...(input ? { input } : {}),
    ...(distill ? { distill: distill.spec } : {}),
  };
  return { ok: true, spec };
}

// ---- class weights, shuffle seed (issue 7: the case study's training options) ----

/** Where a `classWeight` was given (for the consistency checks once the training section is read). */
interface WeightNode {
  readonly node: Node;
  readonly path: string;
  /** The entry's member name (undefined for training.classWeight). */
  readonly member: string | undefined;
}

const MAX_CLASS_WEIGHT = 1000;

function classWeightValue(
  c: Checker,
  node: Node | undefined,
  path: string,
  parent: Node,
): ClassWeight | undefined {
  if (!node) return undefined;
  if (isScalar(node) && node.value === 'balanced') return 'balanced';
  if (isScalar(node) && typeof node.value === 'number')
    return c.num(node, path, parent, { gt: 0, max: MAX_CLASS_WEIGHT });
  c.at(
    node,
    path,
    `must be 'balanced' (negatives/positives of the owner's own rows) or a number > 0 and ≤ ${MAX_CLASS_WEIGHT}` +
      (isScalar(node) ? ` (got ${JSON.stringify(node.value)})` : ''),
    parent,
  );
  return undefined;
}

/** A data entry's `classWeight` (training entries only). */
function entryClassWeight(
  c: Checker,
  key: 'train' | 'test' | 'validation',
  node: Node | undefined,
  path: string,
  entry: Node,
  out: WeightNode[],
): ClassWeight | undefined {
  if (!node) return undefined;
  if (key !== 'train') {
    c.at(
      node,
      path,
      `only for data.train entries (the weights of the training rows; ${key} rows are not weighted)`,
    );
    return undefined;
  }
  const v = classWeightValue(c, node, path, entry);
  const m = isMap(entry) ? (entry as YAMLMap<Node, Node>).get('member', true) : undefined;
  out.push({ node, path, member: isScalar(m) && typeof m.value === 'string' ? m.value : undefined });
  return v;
}

/** `training.shuffleSeed` and `training.classWeight`, and the rules tying class weights to the loss. */
function trainingExtras(
  c: Checker,
  t: Entries,
  tNode: Node,
  shuffle: boolean,
  o: {
    loss: string | undefined;
    lossNode: Node | undefined;
    model: ModelSpec | undefined;
    data: DataSpec | undefined;
    weightNodes: readonly WeightNode[];
  },
): { shuffleSeed?: number; classWeight?: ClassWeight; validationThresholds?: number } {
  const out: { shuffleSeed?: number; classWeight?: ClassWeight; validationThresholds?: number } = {};
  if (t.has('validationThresholds')) {
    const v = c.num(t.get('validationThresholds'), 'training.validationThresholds', tNode, {
      int: true,
      min: 2,
      max: 256,
    });
    if (!(o.data?.validation ?? []).length)
      c.at(t.get('validationThresholds'), 'training.validationThresholds', 'only with a data.validation set');
    else if (v !== undefined) out.validationThresholds = v;
  }
  if (t.has('shuffleSeed')) {
    const v = c.num(t.get('shuffleSeed'), 'training.shuffleSeed', tNode, {
      int: true,
      min: 0,
      max: 2 ** 31 - 1,
    });
    if (!shuffle) c.at(t.get('shuffleSeed'), 'training.shuffleSeed', 'only with shuffle: true');
    else if (v !== undefined) out.shuffleSeed = v;
  }
  const all: WeightNode[] = [...o.weightNodes];
  if (t.has('classWeight')) {
    const v = classWeightValue(c, t.get('classWeight'), 'training.classWeight', tNode);
    if (v !== undefined) out.classWeight = v;
    all.push({ node: t.get('classWeight')!, path: 'training.classWeight', member: undefined });
  }
  if (all.length === 0) return out;
  const outputs =
    o.model?.type === 'logreg'
      ? 1
      : o.model?.type === 'mlp'
        ? o.model.layers[o.model.layers.length - 1]
        : undefined;
  for (const w of all) {
    if (o.loss !== undefined && o.loss !== 'bce')
      c.at(w.node, w.path, `class weights need loss: bce (a binary task); training.loss is ${o.loss}`);
    else if (outputs !== undefined && outputs !== 1)
      c.at(w.node, w.path, `class weights need one output (the binary logit); the model has ${outputs}`);
  }
  // vertical: only the owner holding the label knows the classes of the rows
  const d = o.data;
  if (d?.partition === 'vertical')
    for (const w of o.weightNodes) {
      const ref = d.train.find((r) => r.member === w.member);
      if (ref && Array.isArray(ref.columns) && !ref.columns.includes(d.label))
        c.at(
          w.node,
          w.path,
          `vertical partition: only the owner holding the label '${d.label}' can weight its rows (${ref.member} does not)`,
        );
    }
  return out;
}

/** Read, parse and validate a spec file; throws `input-invalid` listing every problem. */
export function loadSpec(file: string, opts: ValidateOptions = {}): JobSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ShareholdError(
      'input-invalid',
      `${file}: cannot read the job spec (${(e as { code?: string }).code ?? String(e)})`,
      {
        file,
      },
    );
  }
  const r = validateSpecText(text, file, opts);
  if (!r.ok)
    throw new ShareholdError(
      'input-invalid',
      `invalid job spec (${r.issues.length} problem${r.issues.length > 1 ? 's' : ''}):\n${formatIssues(r.issues)}`,
      {
        file,
        issues: r.issues,
      },
    );
  return r.spec;
}
