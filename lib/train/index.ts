export { countCorrect, evaluate, fit, predictClasses } from './fit';
export type { BatchMetrics, EpochMetrics, FitOptions, LossFn, Steppable, Trainable } from './fit';
export { ACTIVATIONS, ConfigError, INITS, LOSSES, MODELS, resolveConfig } from './config';
export type { RunConfig, TrainFlags } from './config';
export { buildAugment, buildSchedule } from './recipe';
export { buildLoss, buildModel, buildOptimizer, dataOptions, loadData, lossReduction, optimizerOptions, shapeForModel, trainFromConfig } from './recipe';
export type { TrainFromConfigOptions, TrainFromConfigResult, TrainingStart } from './recipe';
export { CHECKPOINT_FILE, CheckpointError, checkpointFile, hasCheckpoint, loadCheckpoint, parseCheckpoint, saveCheckpoint, serializeCheckpoint } from './checkpoint';
export type { CheckpointState } from './checkpoint';
