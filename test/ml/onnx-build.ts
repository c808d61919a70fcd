/** Shared by the ONNX tests: the shipped models, their PyTorch I/O files, and a builder for synthetic models. */
import { fileURLToPath } from 'node:url';
import { encodeModel } from '../../src/ml/onnx/index.js';

export const ONNX_DIR = fileURLToPath(new URL('../../../data/onnx/', import.meta.url));
export const MODELS = ['breast_cancer_logreg', 'breast_cancer_mlp', 'digits_mlp', 'digits_cnn'];

/** A data/onnx/*.io.json file: 20 inputs with PyTorch's outputs and classes. */
export interface IoFile {
  input_name: string;
  input_shape: number[];
  output_name: string;
  output_shape?: number[];
  inputs: number[][];
  outputs: number[][];
  predicted_class: number[];
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Binary models output one probability: class = p > 0.5; otherwise the argmax. */
export function predicted(row: ArrayLike<number>): number {
  return row.length === 1 ? (row[0]! > 0.5 ? 1 : 0) : argmax(row);
}

export const FLOAT = 1;
export const INT64 = 7;
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 };

/** A float tensor's value info with fixed or symbolic dimensions. */
export function vi(name: string, dims: (number | string)[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export function floatTensor(
  name: string,
  dims: number[],
  values: number[],
  raw = false,
): Record<string, unknown> {
  if (!raw) return { name, dims, data_type: FLOAT, float_data: values };
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  return { name, dims, data_type: FLOAT, raw_data: bytes };
}

export function ints(name: string, v: number[]): Record<string, unknown> {
  return { name, type: ATTR.INTS, ints: v };
}

/** `.onnx` bytes of a one-graph model (opset 13). */
export function model(nodes: Record<string, unknown>[], extra: Record<string, unknown> = {}): Uint8Array {
  return encodeModel({
    ir_version: 7,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'sharehold-test',
    graph: { name: 'g', node: nodes, ...extra },
  });
}

/** Seeded LCG in [−0.5, 0.5) (Math.random is banned). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
