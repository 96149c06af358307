/**
 * Keeps a long CLI sweep's memory flat in the number of pods.
 *
 * A streamed sweep keeps nothing per pod (its heap after a full collection is ~16 MB at 500 and
 * at 5,000 pods), but each pod leaves garbage: the pod list pages (~4 MB each for 500 pods), the
 * exec streams in flight (TLS sockets, WebSocket frames, HTTP requests: about 160 KB allocated
 * per pod). Left to its defaults, V8 holds that garbage in two places that grow with the run:
 * - the young generation, which V8 grows to 2 × 16 MB semi-spaces as allocation keeps up;
 * - the old generation, whose first full collection waits for a limit sized for the machine
 *   (the default maximum heap is a share of physical memory).
 * Peak RSS was 133 MB at 500 pods and 190-215 MB at 5,000 (measured 2026-12-02, 2 cores).
 *
 * `holdYoungGeneration` keeps the young generation at its initial size (V8's
 * `--semi-space-growth-factor`, read whenever V8 considers growing it, so it can be set at run time
 * before the sweep allocates): a sweep's garbage dies young, a bigger nursery only holds more of it.
 * The governor samples the old generation and runs a full collection whenever it grew by
 * `growthBytes`, or by `growthFactor` of what the last collection left if that is more. With a
 * sweep's small live set a collection takes a few milliseconds; the factor keeps the cost in
 * proportion where the live set is large (--history keeps every pod; the CLI run in-process inside
 * a test runner's big heap), as V8's own heap growing does. Only the old generation is counted:
 * counting the young one made the governor collect at every nursery fill (about 3 s of CPU in a
 * 5,000-pod sweep). Unlike capping the heap (--max-old-space-size), neither can make a sweep fail.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface HeapGovernorOptions {
  /** Collect when the old generation grew by this much since the last collection… @default 8 MiB */
  readonly growthBytes?: number;
  /** …or by this share of the heap the last collection left, if that is more. @default 0.5 */
  readonly growthFactor?: number;
  /** How often the old generation is sampled. @default 100 ms */
  readonly intervalMs?: number;
  /** Full garbage collection; injectable for tests. @default V8's, exposed at run time */
  readonly collect?: () => void;
  /** Bytes used in the old generation (every space but the young one); injectable for tests. */
  readonly usedHeap?: () => number;
}

export interface HeapGovernor {
  /** Full collections run so far. */
  readonly collections: number;
  stop(): void;
}

export const DEFAULT_GOVERNOR_GROWTH_BYTES = 8 * 1024 * 1024;

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
  const usedHeap = options.usedHeap ?? oldGenerationUsed;
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

/** Every heap space but the young generation's (new space and its large objects). */
export function oldGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name !== 'new_space' && space.space_name !== 'new_large_object_space') used += space.space_used_size;
  }
  return used;
}

/**
 * Keeps V8's young generation at its initial size from now on (see the module comment). Called
 * before a sweep's modules load, so the nursery has not grown yet.
 */
export function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
