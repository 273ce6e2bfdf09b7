export { Optimizer, Adam, AdamW, Lamb, clipGradNorm, type AdamOptions, type LambOptions } from './optimizer.js';
export { StepDecay, ConstantLr, type LrSchedule } from './schedule.js';
