import { describe, expect, it } from '@jest/globals';
import { backoffDelayMs, forEachConcurrent, parseRetryAfter, withRetry } from '../../src/core/model/retry.js';

class Transient extends Error {}

describe('withRetry', () => {
  it('retries transient failures with capped backoff and returns the eventual result', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Transient('blip');
        return 'ok';
      },
      { attempts: 5, baseDelayMs: 100, maxDelayMs: 150, classify: (e) => ({ retry: e instanceof Transient }), sleep: async (ms) => void waits.push(ms), random: () => 0.999 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([99, 149]);
  });

  it('honours a server-imposed delay such as Retry-After', async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (calls++ === 0) throw new Transient('429');
        return 1;
      },
      { attempts: 2, baseDelayMs: 1, maxDelayMs: 10_000, classify: () => ({ retry: true, delayMs: 2_000 }), sleep: async (ms) => void waits.push(ms) },
    );
    expect(waits).toEqual([2_000]);
  });

  it('rethrows the original error unchanged when it is not transient or attempts run out', async () => {
    const fatal = new Error('fatal', { cause: 'root' });
    await expect(withRetry(() => Promise.reject(fatal), { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, classify: () => ({ retry: false }) })).rejects.toBe(fatal);
    let calls = 0;
    const blip = new Transient('still failing');
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(blip);
        },
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, classify: () => ({ retry: true }), sleep: async () => undefined },
      ),
    ).rejects.toBe(blip);
    expect(calls).toBe(3);
  });

  it('does not wait past a deadline', async () => {
    let calls = 0;
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(new Transient('x'));
        },
        { attempts: 10, baseDelayMs: 1, maxDelayMs: 5_000, classify: () => ({ retry: true, delayMs: 5_000 }), deadline: 1_000, clock: () => 0, sleep: async () => undefined },
      ),
    ).rejects.toThrow('x');
    expect(calls).toBe(1);
  });

  it('computes full-jitter backoff bounded by the cap', () => {
    expect(backoffDelayMs(0, 100, 1_000, () => 0.5)).toBe(50);
    expect(backoffDelayMs(10, 100, 1_000, () => 0.5)).toBe(500);
  });
});

describe('forEachConcurrent', () => {
  it('never runs more than the limit at once and visits every item of an async source', async () => {
    async function* source() {
      for (let i = 0; i < 50; i++) yield i;
    }
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachConcurrent(source(), 4, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      seen.push(i);
      running--;
    });
    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('stops taking items when asked and closes the source', async () => {
    let closed = false;
    async function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    let taken = 0;
    await forEachConcurrent(source(), 2, async () => void taken++, () => taken >= 10);
    expect(taken).toBeGreaterThanOrEqual(10);
    expect(taken).toBeLessThanOrEqual(11);
    expect(closed).toBe(true);
  });

  it('propagates a source failure', async () => {
    async function* source() {
      yield 1;
      throw new Error('list failed');
    }
    await expect(forEachConcurrent(source(), 3, async () => undefined)).rejects.toThrow('list failed');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-20T03:20:00Z');
  it('reads delay-seconds and HTTP dates, and leaves the fallback to the caller otherwise', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Fri, 20 Nov 2026 03:20:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Fri, 20 Nov 2026 03:19:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('  ', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
