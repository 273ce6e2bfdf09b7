// Opens the teacher of a search or a distillation run: a checkpoint of ours (e.g. <run>/best.ckpt)
// or an ONNX file with its mapping (by default <name>.mapping.json beside <name>.onnx, as
// `adarec export --signals` writes it). onnxruntime is imported only for an ONNX teacher.
import { existsSync } from 'node:fs';
import type { Teacher } from '../models/teacher.js';
import { modelTeacher } from '../models/teacher.js';
import { defaultMappingPath } from '../onnx/mapping.js';
import { loadTrainedModel } from './load.js';

export interface TeacherSource {
  /** A checkpoint (.ckpt) or an ONNX model (.onnx). */
  path: string;
  /** The mapping of an ONNX teacher (default: defaultMappingPath(path)). */
  mapping?: string;
  /** The config field or option that named it, for errors (e.g. 'distillation.teacher'). */
  field: string;
  /** The input length the caller feeds (checked against an ONNX teacher's maxLength). */
  maxLength: number;
}

export function isOnnxPath(path: string): boolean {
  return /\.onnx$/i.test(path);
}

export async function loadTeacher(s: TeacherSource): Promise<Teacher> {
  if (!existsSync(s.path)) throw new Error(`${s.field}: ${s.path}: no such file`);
  if (!isOnnxPath(s.path)) {
    if (s.mapping !== undefined) throw new Error(`${s.field}: a mapping file is only read for an .onnx teacher, not ${s.path}`);
    const t = loadTrainedModel(s.path);
    return modelTeacher(t.model, { kind: t.config.model.kind, hidden: t.config.model.hidden, manifestHash: t.manifestHash });
  }
  const mapping = s.mapping ?? defaultMappingPath(s.path);
  if (!existsSync(mapping)) throw new Error(`${s.field}: ${s.path} is an ONNX teacher and needs a mapping file; ${mapping}: no such file`);
  const { OnnxTeacher } = await import('../onnx/teacher.js');
  const teacher = await OnnxTeacher.load(s.path, mapping);
  if (teacher.maxLength !== s.maxLength) {
    teacher.dispose();
    throw new Error(`${mapping}: maxLength: the ONNX teacher takes ${teacher.maxLength} positions, this run's maxLength is ${s.maxLength}`);
  }
  return teacher;
}
