/** Machine learning over secret tensors: ONNX import (more to come). */
export * as onnx from './onnx/index.js';
export * as modules from './modules/index.js';
