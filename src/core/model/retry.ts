/**
 * Retry with capped exponential backoff and full jitter. The caller decides what is
 * transient (and may impose a server-given delay such as `Retry-After`); the last error is
 * rethrown unchanged so its type and `cause` survive.
 */
export interface RetryDecision {
  readonly retry: boolean;
  /** Server-imposed wait (e.g. from `Retry-After`); overrides the computed backoff. */
  readonly delayMs?: number;
}

export interface RetryOptions {
  /** Total attempts including the first. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  /** Ceiling of the computed backoff. */
  readonly maxDelayMs: number;
  /**
   * Ceiling of a server-imposed delay (Retry-After) when there is no deadline; with a deadline,
   * a server's delay is honoured in full if the wait ends before it (default: maxDelayMs).
   */
  readonly maxServerDelayMs?: number;
  readonly classify: (error: unknown) => RetryDecision;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1); injectable for deterministic tests. */
  readonly random?: () => number;
  /** Stop retrying when the next wait would end after this instant (epoch ms). */
  readonly deadline?: number;
  readonly clock?: () => number;
}

/**
 * An HTTP `Retry-After` value (delay in seconds, or an HTTP date) as milliseconds from `nowMs`;
 * undefined when absent, blank or unreadable, so the caller picks its own fallback.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const decision = options.classify(error);
      if (!decision.retry || attempt + 1 >= options.attempts) throw error;
      const delay =
        decision.delayMs !== undefined
          ? options.deadline !== undefined
            ? decision.delayMs
            : Math.min(decision.delayMs, options.maxServerDelayMs ?? options.maxDelayMs)
          : backoffDelayMs(attempt, options.baseDelayMs, options.maxDelayMs, random);
      if (options.deadline !== undefined && clock() + delay >= options.deadline) throw error;
      await wait(delay);
    }
  }
}

/** Bounded concurrency over an (async) iterable; results are not collected, `work` handles them. */
export async function forEachConcurrent<T>(
  items: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : toAsync(items[Symbol.iterator]());
  let done = false;
  // Pulls are serialised so an async generator is never re-entered.
  let pull: Promise<unknown> = Promise.resolve();
  const next = (): Promise<IteratorResult<T>> => {
    const result = pull.then(() => iterator.next());
    pull = result.catch(() => undefined);
    return result;
  };
  const worker = async (): Promise<void> => {
    try {
      while (!done && !shouldStop()) {
        const item = await next();
        if (item.done) {
          done = true;
          return;
        }
        await work(item.value);
      }
    } catch (error) {
      // One failure stops the other workers from taking new items; the error propagates.
      done = true;
      throw error;
    }
  };
  let exhausted = false;
  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    exhausted = done;
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}

function toAsync<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return { next: async () => iterator.next() };
}
