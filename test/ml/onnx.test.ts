/**
 * ONNX importer + plaintext reference executor: the four models of data/onnx against the PyTorch
 * outputs recorded in their .io.json files, and the "report every unsupported feature at once"
 * behaviour on synthetic models built here with protobufjs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isShareholdError } from '../../src/errors.js';
import type { ImportProblem } from '../../src/ml/onnx/index.js';
import { encodeModel, importOnnx, loadOnnx, runReference } from '../../src/ml/onnx/index.js';
import {
  ATTR,
  INT64,
  MODELS,
  ONNX_DIR,
  floatTensor,
  lcg,
  model,
  predicted,
  vi,
  type IoFile,
} from './onnx-build.js';

void describe('ONNX models of data/onnx: reference executor vs PyTorch', () => {
  for (const model of MODELS) {
    void it(`${model}: 20 inputs within 1e-4, same predicted class`, () => {
      const graph = loadOnnx(`${ONNX_DIR}${model}.onnx`);
      const io = JSON.parse(readFileSync(`${ONNX_DIR}${model}.io.json`, 'utf8')) as IoFile;
      assert.equal(graph.opset, 13);
      assert.deepEqual(
        graph.inputs.map((i) => i.name),
        [io.input_name],
      );
      assert.equal(io.inputs.length, 20);
      // Whole batch at once (dynamic batch dimension N)...
      const out = runReference(graph, { [io.input_name]: { shape: io.input_shape, data: io.inputs.flat() } })[
        io.output_name
      ];
      assert.ok(out);
      assert.deepEqual(out.shape, io.output_shape);
      const width = out.data.length / 20;
      let maxErr = 0;
      for (let s = 0; s < 20; s++) {
        const row: Float64Array = out.data.subarray(s * width, (s + 1) * width);
        const ref = io.outputs[s] as number[];
        for (let j = 0; j < width; j++)
          maxErr = Math.max(maxErr, Math.abs((row[j] as number) - (ref[j] as number)));
        assert.equal(predicted(row), io.predicted_class[s], `sample ${s}`);
        assert.equal(predicted(row), predicted(ref), `sample ${s} vs PyTorch`);
        // ...and one sample alone gives the same numbers.
        if (s < 3) {
          const one = runReference(graph, {
            [io.input_name]: { shape: [1, ...io.input_shape.slice(1)], data: io.inputs[s] as number[] },
          })[io.output_name];
          assert.deepEqual(Array.from(one?.data ?? []), Array.from(row));
        }
      }
      console.log(`${model}: max |reference - PyTorch| = ${maxErr.toExponential(3)}`);
      assert.ok(maxErr < 1e-4, `${model}: max error ${maxErr}`);
    });
  }

  void it('the imported IR is topologically ordered and typed', () => {
    const g = loadOnnx(`${ONNX_DIR}digits_cnn.onnx`);
    assert.deepEqual(
      g.nodes.map((n) => n.op),
      ['conv2d', 'relu', 'avgPool2d', 'flatten', 'gemm'],
    );
    assert.deepEqual(g.inputs[0]?.shape, ['N', 1, 8, 8]);
    assert.deepEqual(
      g.nodes.map((n) => n.shape),
      [
        ['N', 4, 6, 6],
        ['N', 4, 6, 6],
        ['N', 4, 3, 3],
        ['N', 36],
        ['N', 10],
      ],
    );
    const w = g.initializers.get('0.weight');
    assert.deepEqual(w?.shape, [4, 1, 3, 3]);
    assert.ok(w?.data instanceof Float32Array);
  });
});

// ---- synthetic models -------------------------------------------------------------------------

function problemsOf(fn: () => unknown): ImportProblem[] {
  try {
    fn();
  } catch (e) {
    assert.ok(isShareholdError(e, 'input-invalid'), String(e));
    return e.details['problems'] as ImportProblem[];
  }
  assert.fail('expected input-invalid');
}

void describe('ONNX importer: every unsupported feature is reported at once', () => {
  void it('two unsupported operators and a bad attribute in one error, before anything runs', () => {
    const bytes = model(
      [
        {
          op_type: 'Conv',
          name: 'conv',
          input: ['x', 'w'],
          output: ['c'],
          attribute: [
            { name: 'kernel_shape', type: ATTR.INTS, ints: [3, 3] },
            { name: 'dilations', type: ATTR.INTS, ints: [2, 2] },
          ],
        },
        { op_type: 'Erf', name: 'erf', input: ['c'], output: ['e'] },
        { op_type: 'Relu', name: 'relu', input: ['e'], output: ['r'] },
        { op_type: 'LSTM', name: 'lstm', input: ['r'], output: ['y'] },
      ],
      {
        initializer: [floatTensor('w', [2, 1, 3, 3], new Array<number>(18).fill(0.5))],
        input: [vi('x', ['N', 1, 8, 8])],
        output: [vi('y', ['N', 2])],
      },
    );
    let err: unknown;
    try {
      importOnnx(bytes, { source: 'synthetic.onnx' });
    } catch (e) {
      err = e;
    }
    assert.ok(isShareholdError(err, 'input-invalid'));
    const problems = err.details['problems'] as ImportProblem[];
    assert.deepEqual(
      problems.map((p) => [p.kind, p.op, p.node, p.attribute]),
      [
        ['attribute', 'Conv', 'conv', 'dilations'],
        ['operator', 'Erf', 'erf', undefined],
        ['operator', 'LSTM', 'lstm', undefined],
      ],
    );
    assert.match(err.message, /3 unsupported/);
    assert.match(err.message, /Erf/);
    assert.match(err.message, /LSTM/);
    assert.match(err.message, /dilations/);
  });

  void it('also lists unknown attributes, foreign domains, unsupported dtypes and shape clashes', () => {
    const problems = problemsOf(() =>
      importOnnx(
        model(
          [
            {
              op_type: 'Gemm',
              name: 'g1',
              input: ['x', 'w'],
              output: ['h'],
              attribute: [{ name: 'frobnicate', type: ATTR.INT, i: 1 }],
            },
            { op_type: 'Softmax', name: 'sm', domain: 'com.microsoft', input: ['h'], output: ['s'] },
            { op_type: 'Add', name: 'add', input: ['h', 'bias'], output: ['y'] },
          ],
          {
            initializer: [
              floatTensor('w', [5, 3], new Array<number>(15).fill(1)),
              floatTensor('bias', [4], [1, 2, 3, 4]),
              { name: 'u8', dims: [1], data_type: 2, raw_data: new Uint8Array([1]) },
            ],
            input: [vi('x', ['N', 4])],
            output: [vi('y', ['N', 3]), vi('s', ['N', 3])],
          },
        ),
      ),
    );
    const kinds = problems.map((p) => `${p.kind}:${p.node ?? ''}`);
    assert.deepEqual(kinds.sort(), ['attribute:g1', 'dtype:u8', 'operator:sm', 'shape:g1'].sort());
  });

  void it('refuses run-time shapes, used secondary outputs, ceil_mode, cycles and undefined inputs', () => {
    const problems = problemsOf(() =>
      importOnnx(
        model(
          [
            { op_type: 'Relu', name: 'r', input: ['x'], output: ['r'] },
            { op_type: 'Reshape', name: 'rs', input: ['r', 'x'], output: ['rs'] },
            { op_type: 'Dropout', name: 'dr', input: ['r'], output: ['d', 'mask'] },
            { op_type: 'Mul', name: 'm', input: ['d', 'mask'], output: ['m'] },
            {
              op_type: 'MaxPool',
              name: 'mp',
              input: ['x4'],
              output: ['mp'],
              attribute: [
                { name: 'kernel_shape', type: ATTR.INTS, ints: [2, 2] },
                { name: 'ceil_mode', type: ATTR.INT, i: 1 },
              ],
            },
            { op_type: 'Add', name: 'c1', input: ['c2', 'x'], output: ['c1'] },
            { op_type: 'Add', name: 'c2', input: ['c1', 'x'], output: ['c2'] },
          ],
          {
            input: [vi('x', ['N', 4]), vi('x4', ['N', 1, 4, 4])],
            output: [vi('rs', ['N', 4]), vi('m', ['N', 4]), vi('mp', ['N', 1, 2, 2]), vi('nowhere', [1])],
          },
        ),
      ),
    );
    const got = problems.map((p) => `${p.kind}:${p.node ?? ''}:${p.attribute ?? ''}`).sort();
    assert.deepEqual(
      got,
      [
        'graph::', // the c1 ⇄ c2 cycle
        'shape:rs:', // Reshape's shape is a run-time tensor
        'operator:dr:', // Dropout's mask output is used
        'attribute:mp:ceil_mode',
        'graph::', // output 'nowhere' is never produced
      ].sort(),
    );
    assert.ok(problems.some((p) => /cycle/.test(p.message)));
    assert.ok(problems.some((p) => /'nowhere' is never produced/.test(p.message)));
  });

  void it('opset 11: Squeeze/Unsqueeze axes as attributes, INT64 raw_data shapes, Softmax on the last axis', () => {
    const shapeBytes = new Uint8Array(new BigInt64Array([-1n, 2n]).buffer);
    const g = importOnnx(
      encodeModel({
        ir_version: 6,
        opset_import: [{ domain: '', version: 11 }],
        graph: {
          node: [
            {
              op_type: 'Unsqueeze',
              input: ['x'],
              output: ['u'],
              attribute: [{ name: 'axes', type: ATTR.INTS, ints: [0] }],
            },
            {
              op_type: 'Squeeze',
              input: ['u'],
              output: ['s'],
              attribute: [{ name: 'axes', type: ATTR.INTS, ints: [0] }],
            },
            { op_type: 'Reshape', input: ['s', 'shp'], output: ['r'] },
            { op_type: 'Softmax', input: ['r'], output: ['y'] },
          ],
          initializer: [{ name: 'shp', dims: [2], data_type: INT64, raw_data: shapeBytes }],
          input: [vi('x', [2, 3])],
          output: [vi('y', [3, 2])],
        },
      }),
    );
    assert.deepEqual(
      g.nodes.map((n) => [n.op, n.shape]),
      [
        ['unsqueeze', [1, 2, 3]],
        ['squeeze', [2, 3]],
        ['reshape', [3, 2]],
        ['softmax', [3, 2]],
      ],
    );
    const y = runReference(g, { x: { shape: [2, 3], data: [0, Math.log(3), 1, 1, 2, 2] } })['y'];
    assert.deepEqual(y?.shape, [3, 2]);
    assert.ok(Math.abs((y?.data[0] as number) - 0.25) < 1e-12);
    assert.ok(Math.abs((y?.data[1] as number) - 0.75) < 1e-12);
  });

  void it('not protobuf at all → input-invalid', () => {
    const problems = problemsOf(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])));
    assert.equal(problems[0]?.kind, 'graph');
  });
});

void describe('ONNX importer + reference on the other supported operators', () => {
  void it('Constant, Reshape(0/-1), Transpose, MatMul, Sub, Mul, Tanh, Concat, Squeeze/Unsqueeze, BatchNorm, pools, Softmax', () => {
    const rnd = lcg(7);
    const w = Array.from({ length: 2 * 1 * 3 * 3 }, rnd);
    const bytes = model(
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
          attribute: [
            { name: 'pads', type: ATTR.INTS, ints: [1, 1, 1, 1] },
            { name: 'strides', type: ATTR.INTS, ints: [1, 1] },
          ],
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
          attribute: [
            { name: 'kernel_shape', type: ATTR.INTS, ints: [2, 2] },
            { name: 'strides', type: ATTR.INTS, ints: [2, 2] },
          ],
        },
        {
          op_type: 'AveragePool',
          input: ['d'],
          output: ['ap'],
          attribute: [
            { name: 'kernel_shape', type: ATTR.INTS, ints: [3, 3] },
            { name: 'strides', type: ATTR.INTS, ints: [2, 2] },
            { name: 'pads', type: ATTR.INTS, ints: [1, 1, 1, 1] },
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
        {
          op_type: 'Flatten',
          input: ['cat'],
          output: ['f'],
          attribute: [{ name: 'axis', type: ATTR.INT, i: 1 }],
        },
        {
          op_type: 'Transpose',
          input: ['m'],
          output: ['mt'],
          attribute: [{ name: 'perm', type: ATTR.INTS, ints: [1, 0] }],
        },
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
          floatTensor('w', [2, 1, 3, 3], w, true),
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
        output: [vi('y', ['N', 1, 2]), vi('p', ['N', 2])],
      },
    );
    const g = importOnnx(bytes);
    assert.deepEqual(
      g.outputs.map((o) => o.shape),
      [
        ['N', 1, 2],
        ['N', 2],
      ],
    );
    const x = Array.from({ length: 2 * 36 }, rnd);
    const out = runReference(g, { x: { shape: [2, 36], data: x } });

    // Independent straight-line computation of the same graph.
    const expected: number[][] = [];
    for (let n = 0; n < 2; n++) {
      const img = (c: number, i: number, j: number): number =>
        i < 0 || i >= 6 || j < 0 || j >= 6 ? 0 : (x[n * 36 + i * 6 + j] as number);
      const conv: number[][][] = [];
      const bnS = [1.5, 0.5].map(Math.fround);
      const bnB = [0.1, -0.2].map(Math.fround);
      const bnM = [0.05, -0.1].map(Math.fround);
      const bnV = [2, 0.5];
      for (let c = 0; c < 2; c++) {
        conv.push([]);
        for (let i = 0; i < 6; i++) {
          conv[c]?.push([]);
          for (let j = 0; j < 6; j++) {
            let s = 0;
            for (let a = 0; a < 3; a++)
              for (let b = 0; b < 3; b++)
                s += img(0, i + a - 1, j + b - 1) * Math.fround(w[c * 9 + a * 3 + b] as number);
            conv[c]?.[i]?.push(
              ((s - (bnM[c] as number)) / Math.sqrt((bnV[c] as number) + Math.fround(1e-3))) *
                (bnS[c] as number) +
                (bnB[c] as number),
            );
          }
        }
      }
      const at = (c: number, i: number, j: number): number | undefined => conv[c]?.[i]?.[j];
      const mp: number[] = [];
      const ap: number[] = [];
      const gp = [0, 0];
      for (let c = 0; c < 2; c++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            let m = -Infinity;
            for (let a = 0; a < 2; a++)
              for (let b = 0; b < 2; b++) m = Math.max(m, at(c, 2 * i + a, 2 * j + b) as number);
            mp.push(m);
            gp[c] = (gp[c] as number) + m / 9;
            let s = 0;
            for (let a = -1; a < 2; a++) for (let b = -1; b < 2; b++) s += at(c, 2 * i + a, 2 * j + b) ?? 0;
            ap.push(s / 9);
          }
      const f = [...mp.slice(0, 9), ...mp.slice(9), ...ap];
      const flat = [...mp, ...ap];
      assert.equal(f.length, flat.length);
      const mdat = g.initializers.get('m')?.data as Float32Array;
      const ml = [0, 1].map((o) => {
        let s = 0;
        for (let t = 0; t < 36; t++) s += (flat[t] as number) * (mdat[o * 36 + t] as number);
        return Math.tanh(s - (o === 0 ? 0.25 : -0.25)) * (gp[o] as number);
      });
      const mx = Math.max(...ml);
      const lse = mx + Math.log(ml.reduce((a, v) => a + Math.exp(v - mx), 0));
      expected.push([...ml.map((v) => v - lse), ...ml.map((v) => Math.exp(v - lse))]);
    }
    const y = out['y'];
    const p = out['p'];
    assert.deepEqual(y?.shape, [2, 1, 2]);
    for (let n = 0; n < 2; n++) {
      for (let j = 0; j < 2; j++) {
        assert.ok(Math.abs((y?.data[n * 2 + j] as number) - (expected[n]?.[j] as number)) < 1e-9);
        assert.ok(Math.abs((p?.data[n * 2 + j] as number) - (expected[n]?.[2 + j] as number)) < 1e-9);
      }
    }
  });

  void it('Gemm with alpha, beta, transA', () => {
    const bytes = model(
      [
        {
          op_type: 'Gemm',
          input: ['a', 'b', 'c'],
          output: ['y'],
          attribute: [
            { name: 'alpha', type: ATTR.FLOAT, f: 2 },
            { name: 'beta', type: ATTR.FLOAT, f: 0.5 },
            { name: 'transA', type: ATTR.INT, i: 1 },
          ],
        },
      ],
      {
        initializer: [floatTensor('b', [2, 2], [1, 2, 3, 4]), floatTensor('c', [1, 2], [10, 20])],
        input: [vi('a', [2, 3])],
        output: [vi('y', [3, 2])],
      },
    );
    const y = runReference(importOnnx(bytes), { a: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] } })['y'];
    // Aᵀ = [[1,4],[2,5],[3,6]]; AᵀB = [[13,18],[17,24],[21,30]]; 2·AᵀB + 0.5·c
    assert.deepEqual(Array.from(y?.data ?? []), [31, 46, 39, 58, 47, 70]);
  });
});
