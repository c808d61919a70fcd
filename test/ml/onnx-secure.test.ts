/**
 * Secure ONNX execution (src/ml/onnx/secure.ts) on in-memory rep3: the four models of data/onnx on
 * their 20 recorded inputs against PyTorch (same predicted class, max |error| ≤ 1e-2), weights shared
 * by a model owner (party 0), the query by party 1, the output revealed to party 1 only; and every IR
 * op against the float64 reference executor on synthetic models built with encodeModel (asymmetric
 * Conv/MaxPool/AveragePool pads, count_include_pad = 0 and 1, public operands on either side).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { memoryNetwork } from '../../src/net/memory.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import type { ChannelStats } from '../../src/protocols/channel.js';
import type { Engine } from '../../src/protocols/engine.js';
import {
  analyzeRanges,
  architectureOf,
  estimatePreprocessing,
  importOnnx,
  loadOnnx,
  runReference,
  runSecure,
  shareInput,
  shareWeights,
  weightValues,
  type Architecture,
  type OnnxGraph,
} from '../../src/ml/onnx/index.js';
import {
  ATTR,
  INT64,
  MODELS,
  ONNX_DIR,
  argmax,
  floatTensor,
  ints,
  lcg,
  model,
  predicted,
  vi,
  type IoFile,
} from './onnx-build.js';

interface SecureRun {
  /** Party 1's opened outputs (by name); the other parties got null. */
  outputs: Record<string, Float64Array>;
  othersGotNothing: boolean;
  /** Party 1's channel counters during input sharing + evaluation + reveal (after weight sharing). */
  online: ChannelStats;
}

/**
 * Three in-memory rep3 parties: party 0 owns the weights (or they are public), party 1 the input;
 * only party 1 receives the outputs.
 */
async function secureRun(
  graph: OnnxGraph,
  input: { name: string; shape: number[]; data: number[] },
  opts: { publicWeights?: boolean; inputBound?: number } = {},
): Promise<SecureRun> {
  const arch: Architecture = architectureOf(graph);
  const values = weightValues(graph);
  const range = analyzeRanges(arch, {
    f: 16,
    inputBound: opts.inputBound ?? 16,
    weights: values,
    inputShapes: { [input.name]: input.shape },
  });
  const chans = memoryNetwork(3, { timeoutMs: 20000 });
  const res = await Promise.all(
    chans.map(async (ch, me) => {
      const e = await Rep3Session.create(ch, { f: 16 });
      const weights = opts.publicWeights
        ? ({ kind: 'public', values } as const)
        : ({ kind: 'secret', tensors: await shareWeights(e, arch, 0, me === 0 ? values : null) } as const);
      // offline material first, so that the counters below are the online phase only
      const prep = estimatePreprocessing(arch, { [input.name]: input.shape });
      await e.preprocess('trunc', prep.trunc + prep.truncSign); // no sign hints here: Gemm's triples are plain
      await e.preprocess('compare', prep.compare);
      const s0 = { ...ch.stats };
      const x = await shareInput(e, 1, me === 1 ? input.data : null, input.shape);
      const outs = await runSecure(e, arch, {
        weights,
        inputs: { [input.name]: x },
        reluWidths: range.reluWidths,
      });
      const opened: Record<string, Float64Array | null> = {};
      for (const [k, t] of Object.entries(outs)) opened[k] = await t.reveal([1]);
      const s1 = { ...ch.stats };
      return {
        opened,
        online: {
          bytesSent: s1.bytesSent - s0.bytesSent,
          bytesReceived: s1.bytesReceived - s0.bytesReceived,
          messagesSent: s1.messagesSent - s0.messagesSent,
          messagesReceived: s1.messagesReceived - s0.messagesReceived,
          rounds: s1.rounds - s0.rounds,
          waitMs: s1.waitMs - s0.waitMs,
        },
      };
    }),
  );
  await Promise.all(chans.map((c) => c.close()));
  const outputs: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(res[1]!.opened)) outputs[k] = v!;
  const othersGotNothing = [0, 2].every((p) => Object.values(res[p]!.opened).every((v) => v === null));
  return { outputs, othersGotNothing, online: res[1]!.online };
}

void describe('secure inference on the ONNX models of data/onnx (rep3 in memory)', () => {
  for (const model of MODELS) {
    void it(`${model}: 20 inputs, same class as PyTorch, max |error| ≤ 1e-2`, async () => {
      const graph = loadOnnx(`${ONNX_DIR}${model}.onnx`);
      const io = JSON.parse(readFileSync(`${ONNX_DIR}${model}.io.json`, 'utf8')) as IoFile;
      const run = await secureRun(graph, {
        name: io.input_name,
        shape: io.input_shape,
        data: io.inputs.flat(),
      });
      assert.ok(run.othersGotNothing, 'only the querier receives the output');
      const out = run.outputs[io.output_name]!;
      const width = out.length / 20;
      let maxErr = 0;
      for (let s = 0; s < 20; s++) {
        const row = out.subarray(s * width, (s + 1) * width);
        const ref = io.outputs[s]!;
        for (let j = 0; j < width; j++) maxErr = Math.max(maxErr, Math.abs(row[j]! - ref[j]!));
        assert.equal(predicted(row), predicted(ref), `${model} sample ${s}: class differs from PyTorch`);
        assert.equal(argmax(row), argmax(ref), `${model} sample ${s}: argmax differs from PyTorch`);
      }
      console.log(
        `${model}: max |secure − PyTorch| = ${maxErr.toExponential(2)}; online ${run.online.rounds} rounds, ` +
          `${run.online.bytesSent} B sent by the querier (batch 20)`,
      );
      assert.ok(maxErr <= 1e-2, `${model}: max error ${maxErr}`);
      // online rounds with the offline material ready: input 1 + products 1 each + ReLU 8 (narrowed
      // comparison) + reveal 1; the sigmoid models add the sigmoid's own rounds (docs/nonlinear.md)
      const expected: Record<string, number> = {
        digits_mlp: 1 + 1 + 8 + 1 + 1,
        digits_cnn: 1 + 1 + 8 + 1 + 1 + 1,
      };
      if (expected[model] !== undefined) assert.equal(run.online.rounds, expected[model]);
    });
  }

  void it('digits_mlp with public weights gives the same classes (weights as public operands)', async () => {
    const graph = loadOnnx(`${ONNX_DIR}digits_mlp.onnx`);
    const io = JSON.parse(readFileSync(`${ONNX_DIR}digits_mlp.io.json`, 'utf8')) as IoFile;
    const run = await secureRun(
      graph,
      { name: io.input_name, shape: [5, 64], data: io.inputs.slice(0, 5).flat() },
      { publicWeights: true },
    );
    const out = run.outputs[io.output_name]!;
    for (let s = 0; s < 5; s++) {
      const row = out.subarray(s * 10, (s + 1) * 10);
      assert.equal(argmax(row), io.predicted_class[s]);
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(row[j]! - io.outputs[s]![j]!) <= 1e-2);
    }
  });

  void it('the range check narrows the ReLU comparisons of the MLPs and reports a model at risk', () => {
    const graph = loadOnnx(`${ONNX_DIR}digits_mlp.onnx`);
    const arch = architectureOf(graph);
    const a = analyzeRanges(arch, { f: 16, inputBound: 1, weights: weightValues(graph) });
    assert.ok(a.ok, a.report);
    const widths = Object.values(a.reluWidths);
    assert.equal(widths.length, 1);
    assert.ok(widths[0]! < 40, `width ${widths[0]}`);
    // an absurd input bound overflows: reported, and no narrowing
    const bad = analyzeRanges(arch, { f: 16, inputBound: 1e12, weights: weightValues(graph) });
    assert.equal(bad.ok, false);
    assert.match(bad.report, /may overflow/);
    assert.deepEqual(Object.values(bad.reluWidths), [64]);
  });
});

// ---- synthetic models: every IR op against the reference executor --------------------------------

/** Max |secure − reference| per output, with secret-shared and with public weights. */
async function compareToReference(
  graph: OnnxGraph,
  input: { name: string; shape: number[]; data: number[] },
): Promise<Record<string, number>> {
  const ref = runReference(graph, { [input.name]: { shape: input.shape, data: input.data } });
  const errs: Record<string, number> = {};
  for (const publicWeights of [false, true]) {
    const run = await secureRun(graph, input, { publicWeights, inputBound: 4 });
    for (const [name, r] of Object.entries(ref)) {
      const got = run.outputs[name]!;
      assert.equal(got.length, r.data.length, `${name}: size`);
      let m = 0;
      for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i]! - r.data[i]!));
      errs[name] = Math.max(errs[name] ?? 0, m);
    }
  }
  return errs;
}

const flat1 = (input: string, output: string): Record<string, unknown> => ({
  op_type: 'Flatten',
  input: [input],
  output: [output],
  attribute: [{ name: 'axis', type: ATTR.INT, i: 1 }],
});

void describe('secure execution of every IR op against runReference (rep3 in memory)', () => {
  void it('Conv (asymmetric pads, stride 2, bias), MaxPool (asymmetric pads), AveragePool (count_include_pad 0 and 1, asymmetric pads), Concat with a constant, Transpose, Gemm (transA, alpha, beta), public-first Sub/Mul/Add/MatMul, Relu, Sigmoid', async () => {
    const rnd = lcg(11);
    const r = (n: number, s = 1): number[] => Array.from({ length: n }, () => rnd() * s);
    // x [2,2,6,5] → conv [2,3,3,5] → pools [2,3,3,5], [2,3,2,3], [2,3,3,5] → concat [2,110]
    const graph = importOnnx(
      model(
        [
          {
            op_type: 'Conv',
            input: ['x', 'w', 'cb'],
            output: ['c'],
            attribute: [ints('pads', [0, 1, 2, 1]), ints('strides', [2, 1])],
          },
          { op_type: 'Relu', input: ['c'], output: ['cr'] },
          {
            op_type: 'MaxPool',
            input: ['c'],
            output: ['mp'],
            attribute: [ints('kernel_shape', [2, 2]), ints('pads', [1, 0, 0, 1]), ints('strides', [1, 1])],
          },
          {
            op_type: 'AveragePool',
            input: ['cr'],
            output: ['ap0'],
            attribute: [
              ints('kernel_shape', [3, 2]),
              ints('pads', [1, 1, 0, 1]),
              ints('strides', [1, 2]),
              { name: 'count_include_pad', type: ATTR.INT, i: 0 },
            ],
          },
          {
            op_type: 'AveragePool',
            input: ['c'],
            output: ['ap1'],
            attribute: [
              ints('kernel_shape', [2, 2]),
              ints('pads', [0, 1, 1, 0]),
              ints('strides', [1, 1]),
              { name: 'count_include_pad', type: ATTR.INT, i: 1 },
            ],
          },
          flat1('mp', 'f1'),
          flat1('ap0', 'f2'),
          flat1('ap1', 'f3'),
          {
            op_type: 'Concat',
            input: ['f1', 'f2', 'f3', 'kc'],
            output: ['cat'],
            attribute: [{ name: 'axis', type: ATTR.INT, i: 1 }],
          },
          { op_type: 'Transpose', input: ['cat'], output: ['catT'], attribute: [ints('perm', [1, 0])] },
          {
            op_type: 'Gemm',
            input: ['catT', 'g', 'gb'],
            output: ['gm'],
            attribute: [
              { name: 'transA', type: ATTR.INT, i: 1 },
              { name: 'alpha', type: ATTR.FLOAT, f: 0.75 },
              { name: 'beta', type: ATTR.FLOAT, f: 1.5 },
            ],
          },
          { op_type: 'Sub', input: ['ks', 'gm'], output: ['sb'] },
          { op_type: 'Mul', input: ['km', 'sb'], output: ['ml'] },
          { op_type: 'Add', input: ['ka', 'ml'], output: ['ad'] },
          { op_type: 'MatMul', input: ['pm', 'ad'], output: ['mm'] },
          { op_type: 'Sigmoid', input: ['mm'], output: ['y'] },
        ],
        {
          initializer: [
            floatTensor('w', [3, 2, 3, 3], r(54, 0.8)),
            floatTensor('cb', [3], r(3)),
            floatTensor('kc', [2, 2], [0.5, -0.25, 1, 0.125]),
            floatTensor('g', [110, 4], r(440, 0.3)),
            floatTensor('gb', [1, 4], r(4)),
            floatTensor('ks', [4], [1, -1, 0.5, 0]),
            floatTensor('km', [1, 4], [2, -0.5, 0.3, 1.25]),
            floatTensor('ka', [4], r(4)),
            floatTensor('pm', [3, 2], r(6, 2)),
          ],
          input: [vi('x', [2, 2, 6, 5])],
          output: [vi('y', [3, 4]), vi('ap0', [2, 3, 2, 3]), vi('mp', [2, 3, 3, 5]), vi('ap1', [2, 3, 3, 5])],
        },
      ),
    );
    const errs = await compareToReference(graph, { name: 'x', shape: [2, 2, 6, 5], data: r(120, 2) });
    console.log('synthetic model 1: max |secure − reference| per output', errs);
    // linear parts: a few ulp (2^-16 ≈ 1.5e-5) times the fan-in; sigmoid ≤ 5e-4 (docs/nonlinear.md)
    assert.ok(errs.mp! <= 1e-3, `maxpool ${errs.mp}`);
    assert.ok(errs.ap0! <= 1e-3, `avgpool count_include_pad=0 ${errs.ap0}`);
    assert.ok(errs.ap1! <= 1e-3, `avgpool count_include_pad=1 ${errs.ap1}`);
    assert.ok(errs.y! <= 2e-3, `sigmoid output ${errs.y}`);
  });

  void it('Constant/Reshape, symmetric-pad Conv, BatchNorm, Dropout, MaxPool, AveragePool, GlobalAveragePool, Concat, Flatten, Transpose, MatMul, Sub, Tanh, Squeeze, Mul, Unsqueeze, Identity, LogSoftmax, Softmax', async () => {
    const rnd = lcg(7);
    const w = Array.from({ length: 2 * 1 * 3 * 3 }, rnd);
    const graph = importOnnx(
      model(
        [
          {
            op_type: 'Constant',
            output: ['shape'],
            attribute: [
              {
                name: 'value',
                type: ATTR.TENSOR,
                t: { dims: [4], data_type: INT64, int64_data: [0, 1, 6, -1] },
              },
            ],
          },
          { op_type: 'Reshape', input: ['x', 'shape'], output: ['x4'] },
          {
            op_type: 'Conv',
            input: ['x4', 'w'],
            output: ['c'],
            attribute: [ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])],
          },
          {
            op_type: 'BatchNormalization',
            input: ['c', 'bn_s', 'bn_b', 'bn_m', 'bn_v'],
            output: ['bn'],
            attribute: [{ name: 'epsilon', type: ATTR.FLOAT, f: 1e-3 }],
          },
          { op_type: 'Dropout', input: ['bn'], output: ['d'] },
          {
            op_type: 'MaxPool',
            input: ['d'],
            output: ['mp'],
            attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])],
          },
          {
            op_type: 'AveragePool',
            input: ['d'],
            output: ['ap'],
            attribute: [
              ints('kernel_shape', [3, 3]),
              ints('strides', [2, 2]),
              ints('pads', [1, 1, 1, 1]),
              { name: 'count_include_pad', type: ATTR.INT, i: 1 },
            ],
          },
          { op_type: 'GlobalAveragePool', input: ['mp'], output: ['gp'] },
          {
            op_type: 'Concat',
            input: ['mp', 'ap'],
            output: ['cat'],
            attribute: [{ name: 'axis', type: ATTR.INT, i: 1 }],
          },
          flat1('cat', 'f'),
          { op_type: 'Transpose', input: ['m'], output: ['mt'], attribute: [ints('perm', [1, 0])] },
          { op_type: 'MatMul', input: ['f', 'mt'], output: ['mm'] },
          { op_type: 'Sub', input: ['mm', 'k'], output: ['sb'] },
          { op_type: 'Tanh', input: ['sb'], output: ['th'] },
          { op_type: 'Squeeze', input: ['gp', 'axes23'], output: ['sq'] },
          { op_type: 'Mul', input: ['th', 'sq'], output: ['ml'] },
          { op_type: 'Unsqueeze', input: ['ml', 'axes1'], output: ['us'] },
          { op_type: 'Identity', input: ['us'], output: ['id'] },
          {
            op_type: 'LogSoftmax',
            input: ['id'],
            output: ['y'],
            attribute: [{ name: 'axis', type: ATTR.INT, i: -1 }],
          },
          {
            op_type: 'Softmax',
            input: ['ml'],
            output: ['p'],
            attribute: [{ name: 'axis', type: ATTR.INT, i: 1 }],
          },
        ],
        {
          initializer: [
            floatTensor('w', [2, 1, 3, 3], w),
            floatTensor('bn_s', [2], [1.5, 0.5]),
            floatTensor('bn_b', [2], [0.1, -0.2]),
            floatTensor('bn_m', [2], [0.05, -0.1]),
            floatTensor('bn_v', [2], [2, 0.5]),
            floatTensor('m', [2, 2 * 9 + 2 * 9], Array.from({ length: 72 }, rnd)),
            floatTensor('k', [2], [0.25, -0.25]),
            { name: 'axes23', dims: [2], data_type: INT64, int64_data: [2, 3] },
            { name: 'axes1', dims: [1], data_type: INT64, int64_data: [1] },
          ],
          input: [vi('x', ['N', 36])],
          output: [vi('y', ['N', 1, 2]), vi('p', ['N', 2]), vi('bn', ['N', 2, 6, 6])],
        },
      ),
    );
    const errs = await compareToReference(graph, {
      name: 'x',
      shape: [3, 36],
      data: Array.from({ length: 3 * 36 }, () => rnd() * 4),
    });
    console.log('synthetic model 2: max |secure − reference| per output', errs);
    assert.ok(errs.bn! <= 1e-3, `batchnorm ${errs.bn}`);
    assert.ok(errs.p! <= 3e-3, `softmax ${errs.p}`);
    assert.ok(errs.y! <= 3e-3, `log-softmax ${errs.y}`);
  });

  void it('secret × secret: batched MatMul of two secret tensors, Mul and Add of secrets, Relu, Softmax on a middle axis', async () => {
    const rnd = lcg(3);
    const graph = importOnnx(
      model(
        [
          { op_type: 'Reshape', input: ['x', 'sh'], output: ['a'] },
          { op_type: 'Transpose', input: ['a'], output: ['b'], attribute: [ints('perm', [0, 2, 1])] },
          { op_type: 'MatMul', input: ['a', 'b'], output: ['mm'] },
          { op_type: 'Mul', input: ['mm', 'mm'], output: ['sq'] },
          { op_type: 'Add', input: ['sq', 'mm'], output: ['ad'] },
          { op_type: 'Relu', input: ['ad'], output: ['r'] },
          { op_type: 'Sub', input: ['r', 'mm'], output: ['sb'] },
          {
            op_type: 'Softmax',
            input: ['sb'],
            output: ['y'],
            attribute: [{ name: 'axis', type: ATTR.INT, i: 1 }],
          },
        ],
        {
          initializer: [{ name: 'sh', dims: [3], data_type: INT64, int64_data: [2, 3, 4] }],
          input: [vi('x', [2, 12])],
          output: [vi('y', [2, 3, 3]), vi('ad', [2, 3, 3])],
        },
      ),
    );
    const errs = await compareToReference(graph, {
      name: 'x',
      shape: [2, 12],
      data: Array.from({ length: 24 }, () => rnd() * 2),
    });
    console.log('synthetic model 3: max |secure − reference| per output', errs);
    assert.ok(errs.ad! <= 1e-3, `products ${errs.ad}`);
    assert.ok(errs.y! <= 3e-3, `softmax ${errs.y}`);
  });
});

void describe('secure execution on other engines (in memory)', () => {
  for (const scheme of ['shamir', 'rep4'] as const)
    void it(`${scheme}: digits_cnn on 6 inputs, same class as PyTorch, max |error| ≤ 1e-2`, async () => {
      const { ShamirSession } = await import('../../src/protocols/shamir/session.js');
      const { Rep4Session } = await import('../../src/protocols/rep4/session.js');
      const graph = loadOnnx(`${ONNX_DIR}digits_cnn.onnx`);
      const io = JSON.parse(readFileSync(`${ONNX_DIR}digits_cnn.io.json`, 'utf8')) as IoFile;
      const arch = architectureOf(graph);
      const values = weightValues(graph);
      const n = scheme === 'rep4' ? 4 : 3;
      const chans = memoryNetwork(n, { timeoutMs: 20000 });
      const outs = await Promise.all(
        chans.map(async (ch, me) => {
          const e: Engine<unknown> =
            scheme === 'shamir'
              ? await ShamirSession.create(ch, { t: 1, f: 16 })
              : await Rep4Session.create(ch, { f: 16 });
          const w = await shareWeights(e, arch, 0, me === 0 ? values : null);
          const x = await shareInput(e, 1, me === 1 ? io.inputs.slice(0, 6).flat() : null, [6, 1, 8, 8]);
          const o = await runSecure(e, arch, {
            weights: { kind: 'secret', tensors: w },
            inputs: { input: x },
          });
          return o.output!.reveal([1]);
        }),
      );
      await Promise.all(chans.map((c) => c.close()));
      assert.ok(
        outs.every((o, p) => (p === 1) === (o !== null)),
        'only party 1 receives the output',
      );
      const out = outs[1]!;
      let maxErr = 0;
      for (let s = 0; s < 6; s++) {
        const row = out.subarray(s * 10, (s + 1) * 10);
        assert.equal(argmax(row), io.predicted_class[s], `sample ${s}`);
        for (let j = 0; j < 10; j++) maxErr = Math.max(maxErr, Math.abs(row[j]! - io.outputs[s]![j]!));
      }
      console.log(`${scheme} digits_cnn: max |secure − PyTorch| = ${maxErr.toExponential(2)}`);
      assert.ok(maxErr <= 1e-2, `max error ${maxErr}`);
    });
});
