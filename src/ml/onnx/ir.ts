/**
 * The graph IR produced by the ONNX importer. Every node is one tensor operation (see docs/onnx.md
 * for the node → secret-tensor mapping); ONNX-only plumbing is resolved at import time:
 * Constant nodes become initializers, Dropout/Identity become `identity`, Reshape/Squeeze/Unsqueeze
 * carry their (constant) target as attributes, BatchNormalization carries its four parameter tensors
 * by name. Nodes are in topological order, so an executor runs them front to back.
 */

/** A dimension: a number, or the name of a symbolic dimension (e.g. the batch `N`). */
export type Dim = number | string;

export interface TensorInfo {
  readonly name: string;
  readonly shape: readonly Dim[];
}

/** A constant tensor (weights, biases, folded Constant nodes), row-major. */
export interface Initializer {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'float64';
  readonly data: Float32Array | Float64Array;
}

interface NodeBase {
  /** The ONNX node name, or `<op_type>_<index>` when the file has none. */
  readonly name: string;
  /** The ONNX op_type this node came from. */
  readonly onnxOp: string;
  /** Names of the tensor inputs (graph inputs, initializers or earlier outputs). */
  readonly inputs: readonly string[];
  /** Name of the single tensor output. */
  readonly output: string;
  /** Inferred output shape (symbolic dims where the model has them). */
  readonly shape: readonly Dim[];
}

export type IrNode =
  | (NodeBase & {
      readonly op: 'gemm';
      readonly alpha: number;
      readonly beta: number;
      readonly transA: boolean;
      readonly transB: boolean;
    })
  | (NodeBase & { readonly op: 'matmul' })
  | (NodeBase & { readonly op: 'add' | 'sub' | 'mul' })
  | (NodeBase & { readonly op: 'relu' | 'sigmoid' | 'tanh' | 'identity' })
  | (NodeBase & { readonly op: 'softmax' | 'logSoftmax'; readonly axis: number })
  | (NodeBase & {
      readonly op: 'conv2d';
      readonly kernel: readonly [number, number];
      readonly strides: readonly [number, number];
      /** [top, left, bottom, right] */
      readonly pads: readonly [number, number, number, number];
    })
  | (NodeBase & {
      readonly op: 'maxPool2d' | 'avgPool2d';
      readonly kernel: readonly [number, number];
      readonly strides: readonly [number, number];
      readonly pads: readonly [number, number, number, number];
      /** avgPool2d only: divide by the full window (true) or by the non-padding cells (false). */
      readonly countIncludePad: boolean;
    })
  | (NodeBase & { readonly op: 'globalAvgPool' })
  | (NodeBase & { readonly op: 'flatten'; readonly axis: number })
  | (NodeBase & {
      readonly op: 'reshape';
      /** The ONNX target shape as given: 0 copies the input dim, -1 is inferred. */
      readonly target: readonly number[];
    })
  | (NodeBase & { readonly op: 'transpose'; readonly perm: readonly number[] })
  | (NodeBase & {
      readonly op: 'batchNorm';
      readonly epsilon: number;
      /** inputs = [x, scale, bias, mean, var] (the last four are initializers). */
    })
  | (NodeBase & { readonly op: 'concat'; readonly axis: number })
  | (NodeBase & { readonly op: 'squeeze' | 'unsqueeze'; readonly axes: readonly number[] });

export type IrOp = IrNode['op'];

export interface OnnxGraph {
  readonly irVersion: number;
  /** Opset version of the default (ai.onnx) domain. */
  readonly opset: number;
  readonly producer: string;
  /** Runtime inputs (graph inputs that are not initializers). */
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly initializers: ReadonlyMap<string, Initializer>;
  /** Topologically ordered. */
  readonly nodes: readonly IrNode[];
}

/** One reason the importer refuses a model; all of them are reported together. */
export interface ImportProblem {
  readonly kind: 'operator' | 'attribute' | 'shape' | 'dtype' | 'graph';
  /** Node name (or tensor name for initializer/graph problems). */
  readonly node?: string;
  readonly op?: string;
  readonly attribute?: string;
  readonly message: string;
}
