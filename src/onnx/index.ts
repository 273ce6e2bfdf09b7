// The ONNX layer's public surface: export, the teacher mapping, ONNX teachers, sessions.
export { exportOnnx, type ExportOptions, type ExportResult } from './export.js';
export { MIN_OPSET, MAX_OPSET } from './graph.js';
export { onnxMappingSchema, readOnnxMapping, defaultMappingPath, type OnnxMapping } from './mapping.js';
export { OnnxTeacher } from './teacher.js';
export { openSession, idsTensor } from './session.js';
