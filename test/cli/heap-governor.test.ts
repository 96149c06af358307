/**
 * The CLI sweep's heap governor: a full collection whenever the old generation grew by the set
 * amount since the last one, never otherwise; V8's gc exposed at run time really collects; and
 * the young generation stays at its initial size once held (checked in a fresh process, against
 * one that does not hold it).
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { exposedGc, oldGenerationUsed, startHeapGovernor } from '../../src/cli/heap-governor.js';

const governorModule = fileURLToPath(new URL('../../src/cli/heap-governor.ts', import.meta.url));

/** New-space size before and after allocating ~400 MB of short-lived objects, in a fresh process. */
function youngGenerationGrowth(hold: boolean): { before: number; after: number } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    const { holdYoungGeneration } = await import(${JSON.stringify(governorModule)});
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const before = young();
    if (${hold}) holdYoungGeneration();
    let keep = 0;
    for (let i = 0; i < 2_000_000; i++) keep += [{ i, text: 'pod-' + i }, new Array(16).fill(i)].length;
    console.log(JSON.stringify({ before, after: young(), keep }));`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as { before: number; after: number };
}

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

  it('counts the old generation only: young garbage never triggers a collection', () => {
    const old = oldGenerationUsed();
    expect(old).toBeGreaterThan(0);
    expect(old).toBeLessThan(getHeapStatistics().used_heap_size);
  });

  it('holds the young generation at its initial size, where V8 would grow it', () => {
    const held = youngGenerationGrowth(true);
    const free = youngGenerationGrowth(false);
    expect(free.after).toBeGreaterThan(free.before);
    expect(held.after).toBe(held.before);
  });
});
