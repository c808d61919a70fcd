/** Machine learning over secret tensors: ONNX import, modules, training and the model API. */
export * as onnx from './onnx/index.js';
export * as modules from './modules/index.js';
export { fit, type FitOptions } from './train.js';
export * from './model.js';
