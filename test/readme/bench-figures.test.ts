/**
 * The README quotes `npm run bench -- detection`'s summary: time-to-detect of tbot's failure at
 * the default schedule (measured through sweepCluster over the emulator with a fake clock, so
 * deterministic) and the simulation's application restarts per day, watcher against the
 * 45-minute CronJob. Re-measured here: a change to the detection, the schedule, the simulation or
 * the defaults that moves a figure fails until the README says so.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { measureTimeToDetect, restartsPerDayLines, timeToDetectLine } from '../bench/detection.bench.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function quoted(): string[] {
  const section = /<!-- bench:detection begin -->\n```\n([\s\S]*?)```\n<!-- bench:detection end -->/.exec(README)?.[1];
  if (!section) throw new Error('README.md has no bench:detection section');
  return section.trimEnd().split('\n');
}

describe('README bench figures', () => {
  it('quotes the time-to-detect and the restarts per day that the bench prints', async () => {
    const measured = await measureTimeToDetect();
    expect(quoted()).toEqual([timeToDetectLine(measured), ...restartsPerDayLines()]);
    // The claim in words: detected within one sweep interval after tbot's first renewal (20 min).
    expect(Math.min(...measured.resent)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...measured.resent)).toBeLessThanOrEqual(20 + measured.rateMinutes);
  }, 60_000);
});
