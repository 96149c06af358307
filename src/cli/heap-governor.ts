/**
 * Keeps a long CLI sweep's memory flat in the number of pods.
 *
 * A streamed sweep keeps nothing per pod (its heap after a full collection is ~16 MB at 500 and
 * at 5,000 pods), but each pod leaves garbage that outlives a few young-generation scavenges and
 * lands in the old generation: the pod list pages (~4 MB each for 500 pods), the exec streams
 * in flight (TLS sockets, WebSocket frames). V8 runs its first full collection only when the old
 * generation reaches a limit sized for the machine (the default maximum heap is a share of
 * physical memory), so that garbage piled up in proportion to the pods swept: peak RSS 133 MB at
 * 500 pods, 190-215 MB at 5,000 (measured 2026-12-02, 2 cores).
 *
 * The governor samples the used heap and runs a full collection whenever it grew by
 * `growthBytes`, or by `growthFactor` of what the last collection left if that is more, since the
 * last one. With a sweep's small live set a collection takes a few milliseconds; the factor keeps
 * the cost in proportion where the live set is large (--history keeps every pod; the CLI run
 * in-process inside a test runner's big heap), as V8's own heap growing does. Unlike
 * capping the heap (--max-old-space-size), it can never make a sweep fail: a sweep that keeps
 * more (--history keeps every pod for the snapshot) just raises the floor it grows from.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface HeapGovernorOptions {
  /** Collect when the used heap grew by this much since the last collection… @default 12 MiB */
  readonly growthBytes?: number;
  /** …or by this share of the heap the last collection left, if that is more. @default 0.5 */
  readonly growthFactor?: number;
  /** How often the used heap is sampled. @default 100 ms */
  readonly intervalMs?: number;
  /** Full garbage collection; injectable for tests. @default V8's, exposed at run time */
  readonly collect?: () => void;
  /** Used heap in bytes; injectable for tests. */
  readonly usedHeap?: () => number;
}

export interface HeapGovernor {
  /** Full collections run so far. */
  readonly collections: number;
  stop(): void;
}

export const DEFAULT_GOVERNOR_GROWTH_BYTES = 12 * 1024 * 1024;

/**
 * V8's `gc()`, exposed at run time: `--expose-gc` set now applies to contexts created after it,
 * so a fresh context hands the function over (the CLI starts without flags, as kubectl runs it).
 */
export function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export function startHeapGovernor(options: HeapGovernorOptions = {}): HeapGovernor {
  const growthBytes = options.growthBytes ?? DEFAULT_GOVERNOR_GROWTH_BYTES;
  const growthFactor = options.growthFactor ?? 0.5;
  const usedHeap = options.usedHeap ?? (() => getHeapStatistics().used_heap_size);
  const collect = options.collect ?? exposedGc();
  let floor = usedHeap();
  let collections = 0;
  const timer = setInterval(() => {
    if (usedHeap() <= floor + Math.max(growthBytes, floor * growthFactor)) return;
    collect();
    collections++;
    floor = usedHeap();
  }, options.intervalMs ?? 100);
  // Never the reason the process stays alive.
  timer.unref();
  return {
    get collections() {
      return collections;
    },
    stop: () => clearInterval(timer),
  };
}
