/**
 * Optimizers and learning-rate schedulers with PyTorch's option names, defaults and update rules
 * (`torch.optim` as of PyTorch 1.13).
 */
export { Optimizer, zerosLike, type BaseOptions, type OptimizerStateDict, type OptimizerTypedStateDict, type ParamState } from './optimizer';
export { resolveOptions, type Check, type OptionSpec, type OptionSpecs } from './options';
export { SGD, type SGDInput, type SGDOptions } from './sgd';
export { Adam, AdamW, type AdamInput, type AdamOptions, type AdamState } from './adam';
export { Adamax, type AdamaxInput, type AdamaxOptions } from './adamax';
export { Adadelta, type AdadeltaInput, type AdadeltaOptions } from './adadelta';
export { Adagrad, type AdagradInput, type AdagradOptions } from './adagrad';
export { Rprop, type RpropInput, type RpropOptions } from './rprop';
export { ASGD, type ASGDInput, type ASGDOptions } from './asgd';
export { RMSprop, type RMSpropInput, type RMSpropOptions } from './rmsprop';
export { createOptimizer, OPTIMIZER_NAMES, type OptimizerName } from './create';
export { SCHEDULES, stepSchedule, type ScheduleName, type StepScheduleOptions } from './schedules';
export {
  CosineAnnealingLR,
  LRScheduler,
  StepLR,
  type CosineAnnealingLROptions,
  type HasLearningRate,
  type LRSchedulerState,
  type StepLROptions,
} from './lr-scheduler';
