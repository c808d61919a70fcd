/** ONNX import: protobuf schema, typed graph IR, importer and the plaintext reference executor. */
export * from './ir.js';
export {
  ONNX_PROTO,
  DataType,
  AttributeType,
  onnxRoot,
  modelProtoType,
  decodeModel,
  encodeModel,
} from './schema.js';
export type { ModelObj, GraphObj, NodeObj, TensorObj, AttributeObj, ValueInfoObj } from './schema.js';
export { SUPPORTED_OPS, importOnnx, importModel, loadOnnx } from './importer.js';
export type { ImportOptions } from './importer.js';
export { runReference, runNode, resolveReshape, broadcastBinary, matmulT, transposeT } from './reference.js';
export type { RefTensor } from './reference.js';
export {
  analyzeRanges,
  architectureOf,
  padSpatial,
  parseArchitecture,
  runSecure,
  shareInput,
  shareWeights,
  weightSlots,
  weightValues,
} from './secure.js';
export type { Architecture, RangeAnalysis, SecureRunOptions, WeightSlot, Weights } from './secure.js';
export { estimatePreprocessing } from './secure.js';
export { parseQuery, readQuery, queryTensor, queryMaxAbs } from './query.js';
export type { QueryRows } from './query.js';
