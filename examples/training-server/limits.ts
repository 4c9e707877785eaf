/**
 * What one client may ask of the example server: the size of a model, the work of a job, how many jobs it may
 * have at once and how often it may call. Each check throws an error that names the limit, its value and the
 * environment variable that sets it.
 *
 * @example
 * checkJobSize(resolveTrainingSpec({ dataset: 'mnist', hidden: [100000] }), DEFAULT_LIMITS);  // throws LimitError
 */
import { LeNet, type RunConfig } from '../../lib';

export interface Limits {
  /** Largest model, in trainable parameters (`MAX_PARAMS`). */
  maxParams: number;
  /** Largest job, as epochs x training samples (`MAX_EPOCH_SAMPLES`). */
  maxEpochSamples: number;
  /** Running plus queued jobs one token may have (`MAX_JOBS_PER_TOKEN`). */
  maxJobsPerToken: number;
  /** Requests per minute per token (`RATE_LIMIT_PER_MIN`); bursts up to this many. */
  ratePerMinute: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxParams: 20_000_000,
  maxEpochSamples: 6_000_000,
  maxJobsPerToken: 4,
  ratePerMinute: 600,
};

/** The environment variable of each limit. */
export const LIMIT_ENV: Record<keyof Limits, string> = {
  maxParams: 'MAX_PARAMS',
  maxEpochSamples: 'MAX_EPOCH_SAMPLES',
  maxJobsPerToken: 'MAX_JOBS_PER_TOKEN',
  ratePerMinute: 'RATE_LIMIT_PER_MIN',
};

/** A request over a limit: `status` is 400 (the job is too big) or 429 (too many, try later). */
export class LimitError extends Error {
  override name = 'LimitError';
  constructor(
    readonly status: 400 | 429,
    readonly limit: keyof Limits,
    readonly value: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Sample shape, classes and full training-set size of each data set (an upper bound: no data is read). */
const DATASETS: Record<RunConfig['dataset'], { flat: number; image?: [number, number]; classes: number; train: number }> = {
  synth: { flat: 2, classes: 2, train: 60_000 },
  mnist: { flat: 784, image: [1, 28], classes: 10, train: 60_000 },
  'fashion-mnist': { flat: 784, image: [1, 28], classes: 10, train: 60_000 },
  cifar10: { flat: 3072, image: [3, 32], classes: 10, train: 50_000 },
};

const fmt = (n: number) => n.toLocaleString('en-US');

/** Trainable parameters of the model a config builds, computed from the shapes (nothing is allocated). */
export function parameterCount(config: RunConfig): number {
  const d = DATASETS[config.dataset];
  if (config.model === 'lenet' && d.image) {
    // LeNet is small and fixed: build it once to count (its size depends only on channels and image size).
    const net = new LeNet({ inChannels: d.image[0], numClasses: d.classes, imageSize: d.image[1] });
    return net.parameters().reduce((n, p) => n + p.value.size, 0);
  }
  const sizes = [d.flat, ...config.hidden, d.classes];
  let n = 0;
  for (let i = 1; i < sizes.length; i++) n += sizes[i - 1] * sizes[i] + sizes[i];
  return n;
}

/** Training samples a job will see per epoch (its `limit`, at most the data set's size). */
export function samplesPerEpoch(config: RunConfig): number {
  const full = DATASETS[config.dataset].train;
  return Math.min(config.limit ?? full, full);
}

/** Throws a 400 `LimitError` when a job's model or its work is over the limits. */
export function checkJobSize(config: RunConfig, limits: Limits): void {
  const params = parameterCount(config);
  if (params > limits.maxParams) {
    throw new LimitError(
      400,
      'maxParams',
      limits.maxParams,
      `hidden: the model would have ${fmt(params)} parameters; this server's limit is ${fmt(limits.maxParams)} (maxParams, ${LIMIT_ENV.maxParams})`,
      config.model === 'lenet' ? 'model' : 'hidden',
    );
  }
  const work = config.epochs * samplesPerEpoch(config);
  if (work > limits.maxEpochSamples) {
    throw new LimitError(
      400,
      'maxEpochSamples',
      limits.maxEpochSamples,
      `epochs: ${config.epochs} epochs x ${fmt(samplesPerEpoch(config))} samples = ${fmt(work)}; this server's limit is ${fmt(limits.maxEpochSamples)} (maxEpochSamples, ${LIMIT_ENV.maxEpochSamples}); lower epochs or limit`,
      'epochs',
    );
  }
}

/** Throws a 429 `LimitError` when `active` (running + queued jobs of one token) is at the limit. */
export function checkActiveJobs(name: string, active: number, limits: Limits): void {
  if (active >= limits.maxJobsPerToken) {
    throw new LimitError(
      429,
      'maxJobsPerToken',
      limits.maxJobsPerToken,
      `${name} already has ${active} running or queued jobs; the limit per token is ${limits.maxJobsPerToken} (maxJobsPerToken, ${LIMIT_ENV.maxJobsPerToken})`,
    );
  }
}

/**
 * Requests per minute per token, as a token bucket: each name may burst `ratePerMinute` requests, then gets
 * one more every 60/ratePerMinute seconds.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number) {}

  /** Takes one request from `name`'s bucket; throws a 429 `LimitError` (with the seconds to wait) when empty. */
  take(name: string, now = Date.now()): void {
    const rate = this.perMinute / 60_000;
    const b = this.buckets.get(name) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(name, b);
    if (b.tokens < 1) {
      const wait = Math.ceil((1 - b.tokens) / rate / 1000);
      throw new LimitError(
        429,
        'ratePerMinute',
        this.perMinute,
        `too many requests: the limit is ${this.perMinute} per minute per token (ratePerMinute, ${LIMIT_ENV.ratePerMinute}); retry in ${wait} s`,
      );
    }
    b.tokens -= 1;
  }

  /** Seconds until `name` may call again (for Retry-After). */
  retryAfter(name: string): number {
    const b = this.buckets.get(name);
    if (!b || b.tokens >= 1) return 0;
    return Math.max(1, Math.ceil(((1 - b.tokens) * 60) / this.perMinute));
  }
}
