// Knowledge distillation (METHOD.md "Search", the loss): the Distiller's loss terms and the EMD
// many-to-many layer mapping, used by the trainer (finetune with KD, plain-KD baselines) and the search.
export * from './emd.js';
export * from './distiller.js';
