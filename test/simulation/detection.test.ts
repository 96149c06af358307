/**
 * The detection model (src/sandbox/simulation/detection.ts): zero false positives on a jittered healthy
 * population, and detection of tbot's failures at the first missed renewal instead of at 60 %.
 */
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_RENEWAL_POLICY } from '../../src/core/judgement/history.js';
import { defaultDetectionSettings, renderDetection, simulateDetection } from '../../src/sandbox/simulation/detection.js';

describe('detection model', () => {
  const result = simulateDetection(defaultDetectionSettings({ healthyPods: 120, brokenPods: 60, hours: 12, seed: 7 }));

  it('flags no healthy pod rotating on time with jitter (false-positive rate 0)', () => {
    expect(result.healthyJudgements).toBe(120 * 12 * 12);
    expect(result.falsePositives).toBe(0);
    expect(result.falsePositiveRate).toBe(0);
  });

  it('catches the re-sent leaf within one 5-minute sweep of tbot renewal point (20 min), pushes stopped within one sweep of the slack', () => {
    expect(result.detection.resentWithHistory.minMinutes).toBeGreaterThanOrEqual(20);
    expect(result.detection.resentWithHistory.maxMinutes).toBeLessThanOrEqual(25);
    expect(result.detection.stoppedWithHistory.minMinutes).toBeGreaterThanOrEqual(23);
    expect(result.detection.stoppedWithHistory.maxMinutes).toBeLessThanOrEqual(28);
    expect(result.detection.withoutHistory.minMinutes).toBeGreaterThanOrEqual(36);
    expect(result.detection.withoutHistory.maxMinutes).toBeLessThanOrEqual(41);
  });

  it('would flag healthy pods if the slack were smaller than tbot issuance latency and backdating: the measure can fail', () => {
    const tight = simulateDetection(defaultDetectionSettings({ healthyPods: 60, brokenPods: 0, hours: 6, renewal: { ...DEFAULT_RENEWAL_POLICY, slackSeconds: 30 } }));
    expect(tight.falsePositives).toBeGreaterThan(0);
  });

  it('prints the rate and the time-to-detect table', () => {
    const text = renderDetection(result);
    expect(text).toMatch(/false positives: 0 of 17,280 judgements of healthy pods rotating with jitter \(0\.000 %/);
    expect(text).toMatch(/tbot re-sends its cached leaf, with history\s+\d/);
  });
});

describe('simulate prints it', () => {
  it('shows the false-positive rate and the time-to-detect after the cost', async () => {
    const { runCli } = await import('../support/cli.js');
    const run = await runCli(['simulate', '--pods', '200', '--hours', '6']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/false positives: 0 of 28,800 judgements of healthy pods rotating with jitter \(0\.000 %/);
    expect(run.stdout).toMatch(/either, without history \(stale-after 60 %\)\s+3\d/);
  });
});
