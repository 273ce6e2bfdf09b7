// The training layer's public surface.
export {
  parseTrainConfig, readTrainConfig, buildModel, trainConfigSchema, OPTIMIZER_DEFAULTS, MODEL_KINDS, SAMPLED_SOFTMAX_ABOVE,
  type TrainConfig, type TrainConfigInput, type ModelConfig, type ModelKind, type OptimizerConfig,
} from './config.js';
export {
  saveCheckpoint, readCheckpoint, restoreCheckpoint, captureCheckpoint, assertResumable, writeFileAtomic, encodeCheckpoint,
  CHECKPOINT_MAGIC, CHECKPOINT_VERSION, type Checkpoint, type CheckpointMeta, type TrainProgress, type NamedArray,
} from './checkpoint.js';
export { train, derivedSeed, TrainingAborted, type TrainOptions, type TrainData, type TrainResult, type EpochRecord, type BatchInfo } from './trainer.js';
export { loadTrainedModel, resolveCheckpoint, type TrainedModel } from './load.js';
export { loadTeacher, isOnnxPath, type TeacherSource } from './teacher.js';
