/** Machine learning over secret tensors: ONNX import (more to come). */
export * as onnx from './onnx/index.js';
