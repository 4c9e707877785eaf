export { countCorrect, evaluate, fit, predictClasses } from './fit';
export type { BatchMetrics, EpochMetrics, FitOptions, LossFn, Steppable, Trainable } from './fit';
