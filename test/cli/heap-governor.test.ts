/**
 * The CLI sweep's heap governor: a full collection whenever the used heap grew by the set
 * amount since the last one, never otherwise; and V8's gc exposed at run time really collects.
 */
import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { exposedGc, startHeapGovernor } from '../../src/cli/heap-governor.js';

describe('heap governor', () => {
  it('collects only after the heap grew by growthBytes since the last collection', async () => {
    let used = 100;
    const collected: number[] = [];
    const governor = startHeapGovernor({
      growthBytes: 50,
      growthFactor: 0.1,
      intervalMs: 5,
      usedHeap: () => used,
      collect: () => {
        collected.push(used);
        used = 120; // what survives the collection: the new floor
      },
    });
    try {
      used = 140; // grew by 40: below the threshold
      await sleep(40);
      expect(collected).toEqual([]);
      used = 151; // grew by 51
      await sleep(40);
      expect(collected).toEqual([151]);
      used = 165; // 45 above the new floor of 120
      await sleep(40);
      expect(collected).toEqual([151]);
      used = 171;
      await sleep(40);
      expect(collected).toEqual([151, 171]);
      expect(governor.collections).toBe(2);
    } finally {
      governor.stop();
    }
    used = 10_000;
    await sleep(30);
    expect(collected).toHaveLength(2);
  });

  it('waits for a growth in proportion to what the last collection left when that is more', async () => {
    let used = 1000;
    const collected: number[] = [];
    const governor = startHeapGovernor({ growthBytes: 50, growthFactor: 0.5, intervalMs: 5, usedHeap: () => used, collect: () => void collected.push(used) });
    try {
      used = 1400; // 400 above a floor of 1000: below 50% of it
      await sleep(40);
      expect(collected).toEqual([]);
      used = 1501;
      await sleep(40);
      expect(collected).toEqual([1501]);
    } finally {
      governor.stop();
    }
  });

  it('exposes a working gc at run time, without --expose-gc on the command line', async () => {
    const gc = exposedGc();
    const ref = new WeakRef(Array.from({ length: 1000 }, (_, i) => ({ i })));
    // A WeakRef keeps its target for the rest of the job that created it.
    await sleep(0);
    gc();
    expect(ref.deref()).toBeUndefined();
  });
});
