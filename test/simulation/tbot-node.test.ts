/** The tbot node scenario of `simulate`: agent restarts instead of application restarts. */
import { describe, expect, it } from '@jest/globals';
import { renderTbotNode, simulateTbotNode } from '../../src/sandbox/simulation/tbot-node.js';

const base = {
  podsOnNode: 20,
  hours: 24,
  scheduleMinutes: 5,
  lifetimeMinutes: 60,
  staleAfterShare: 0.6,
  expiringWithinShare: 0.2,
  actAtProvenStale: false,
  renewalMinutes: 20,
  slackMinutes: 3,
  cronJobMinutes: 45,
};

describe('simulateTbotNode', () => {
  it('restarts the agent once per cycle and no application pod; restarting workloads costs every pod each cycle', () => {
    const result = simulateTbotNode(base);
    expect(result.actAfterMinutes).toBe(50);
    expect(result.watcher).toEqual({ agentRestartsPerDay: 28, applicationRestartsPerDay: 0, expired: 0 });
    expect(result.watcherWorkloadsOnly.applicationRestartsPerDay).toBe(28 * 20);
    expect(result.cronJob.applicationRestartsPerDay).toBe(32 * 20);
    expect(renderTbotNode(result)).toContain('watcher, node-aware: 28 tbot agent restarts per day, 0 application restarts per day');
  });

  it('acts at the first missed renewal with rotation history, about twice as often until the upgrade', () => {
    const result = simulateTbotNode({ ...base, actAtProvenStale: true });
    expect(result.actAfterMinutes).toBe(25);
    expect(result.watcher.agentRestartsPerDay).toBe(57);
    expect(result.watcher.applicationRestartsPerDay).toBe(0);
  });

  it('lets certificates expire when nothing acts before notAfter', () => {
    const result = simulateTbotNode({ ...base, expiringWithinShare: 0, scheduleMinutes: 60 });
    expect(result.watcher.expired).toBeGreaterThan(0);
  });
});
