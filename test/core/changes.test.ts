import { describe, expect, it } from '@jest/globals';
import { classifyChange, computeChanges, DEFAULT_LEDGER_TTL_SECONDS } from '../../src/core/events/changes.js';
import { AGENT_PODS_LIMIT } from '../../src/core/events/events.js';
import { ConfigError } from '../../src/core/model/errors.js';
import { entry, NOW, pod, report, summaryOf } from './change-fixtures.js';

const nowSeconds = Date.parse(NOW) / 1000;

describe('classifyChange', () => {
  it.each([
    [undefined, ['expired', []], 'opened'],
    [undefined, ['healthy', ['workload-certs-volume']], 'opened'],
    [undefined, ['healthy', []], 'ignored'],
    [['healthy', []], ['stale', []], 'opened'],
    [['stale', []], ['expired', []], 'worsened'],
    [['stale', []], ['stale', ['sds-pushes-stopped']], 'worsened'],
    [['stale', ['sds-pushes-stopped']], ['stale', ['identity-mismatch']], 'worsened'],
    [['expired', []], ['expiring', []], 'improved'],
    [['stale', ['sds-pushes-stopped', 'workload-certs-volume']], ['stale', ['workload-certs-volume']], 'improved'],
    [['expired', ['sds-pushes-stopped']], ['healthy', []], 'resolved'],
    [['stale', ['sds-pushes-stopped']], ['stale', ['sds-pushes-stopped']], 'unchanged'],
    [['stale', ['a', 'b']], ['stale', ['b', 'a']], 'unchanged'],
  ] as const)('%j -> %j is %s', (prev, cur, expected) => {
    const p = prev ? { state: prev[0], findings: prev[1] as never } : undefined;
    expect(classifyChange(p, { state: cur[0], findings: cur[1] as never })).toBe(expected);
  });
});

describe('computeChanges', () => {
  it('emits Unhealthy for every pod needing attention on every sweep (level-triggered)', () => {
    const pods = [pod('carts-1', 'expired'), pod('web-1', 'healthy'), pod('api-1', 'healthy', ['workload-certs-volume'])];
    const previous = [entry('carts-1', 'expired')];
    const { unhealthy, changes } = computeChanges({ previous, report: report(pods), scope: 'all' });
    expect(unhealthy.map((d) => d.name)).toEqual(['carts-1', 'api-1']);
    expect(unhealthy[0]).toEqual({ ...pods[0], cluster: 'prod-mesh', sweepId: 'sweep-2', observedAt: NOW, sweepSummary: summaryOf(pods) });
    // carts-1 unchanged: no change event; api-1 first seen with a finding: opened
    expect(changes.map((c) => [c.name, c.change])).toEqual([['api-1', 'opened']]);
  });

  it('opens first-seen unhealthy pods and stores them; ignores first-seen healthy pods', () => {
    const { changes, writes } = computeChanges({
      previous: [],
      report: report([pod('carts-1', 'stale', ['sds-push-without-rotation']), pod('web-1', 'healthy')]),
      scope: 'all',
    });
    expect(changes).toEqual([
      expect.objectContaining({
        name: 'carts-1',
        state: 'stale',
        change: 'opened',
        previousState: null,
        previousFindings: [],
        previousObservedAt: null,
        cluster: 'prod-mesh',
        sweepId: 'sweep-2',
        observedAt: NOW,
        certificate: expect.objectContaining({ serialNumber: '1A2B3C' }),
      }),
    ]);
    expect(writes).toEqual([
      {
        kind: 'put',
        entry: {
          uid: 'uid-carts-1',
          namespace: 'shop',
          name: 'carts-1',
          state: 'stale',
          findings: ['sds-push-without-rotation'],
          workload: { kind: 'Deployment', name: 'carts-1' },
          observedAt: NOW,
          sweepId: 'sweep-2',
          expiresAt: nowSeconds + DEFAULT_LEDGER_TTL_SECONDS,
        },
      },
    ]);
  });

  it('reports worsened, improved and resolved with the previous state, and writes accordingly', () => {
    const previous = [
      entry('a', 'stale'),
      entry('b', 'expired', ['sds-pushes-stopped']),
      entry('c', 'expiring'),
      entry('d', 'stale', ['sds-pushes-stopped']),
    ];
    const pods = [
      pod('a', 'expiring'),
      pod('b', 'stale', ['sds-pushes-stopped']),
      pod('c', 'healthy'),
      pod('d', 'stale', ['sds-pushes-stopped', 'identity-mismatch']),
    ];
    const { changes, writes } = computeChanges({ previous, report: report(pods), scope: 'all' });
    expect(changes.map((c) => [c.name, c.previousState, c.state, c.change])).toEqual([
      ['a', 'stale', 'expiring', 'worsened'],
      ['b', 'expired', 'stale', 'improved'],
      ['c', 'expiring', 'healthy', 'resolved'],
      ['d', 'stale', 'stale', 'worsened'],
    ]);
    expect(changes[1]).toMatchObject({ previousFindings: ['sds-pushes-stopped'], previousObservedAt: '2025-06-01T11:55:00.000Z' });
    expect(writes.map((w) => (w.kind === 'put' ? ['put', w.entry.uid, w.entry.state] : ['delete', w.uid]))).toEqual([
      ['put', 'uid-a', 'expiring'],
      ['put', 'uid-b', 'stale'],
      ['delete', 'uid-c'],
      ['put', 'uid-d', 'stale'],
    ]);
  });

  it('does not write unchanged pods unless their TTL needs pushing forward', () => {
    const fresh = entry('a', 'stale', [], { expiresAt: nowSeconds + DEFAULT_LEDGER_TTL_SECONDS / 2 + 60 });
    const ageing = entry('b', 'stale', [], { expiresAt: nowSeconds + DEFAULT_LEDGER_TTL_SECONDS / 2 - 60 });
    const legacy = entry('c', 'stale', [], { expiresAt: undefined });
    const { changes, writes } = computeChanges({
      previous: [fresh, ageing, legacy],
      report: report([pod('a', 'stale'), pod('b', 'stale'), pod('c', 'stale')]),
      scope: 'all',
    });
    expect(changes).toEqual([]);
    expect(writes).toEqual([
      { kind: 'put', entry: { ...ageing, expiresAt: nowSeconds + DEFAULT_LEDGER_TTL_SECONDS } },
      { kind: 'put', entry: { ...legacy, expiresAt: nowSeconds + DEFAULT_LEDGER_TTL_SECONDS } },
    ]);
    // the "since" fields are kept on refresh
    expect(writes[0]).toMatchObject({ entry: { observedAt: '2025-06-01T11:55:00.000Z', sweepId: 'sweep-1' } });
  });

  it('declares ledger pods missing from a complete sweep gone, within the swept scope only', () => {
    const previous = [
      entry('old-1', 'expired', ['sds-pushes-stopped']),
      entry('other-ns-1', 'stale', [], { namespace: 'billing', uid: 'uid-other' }),
      entry('kept-1', 'stale'),
    ];
    const result = computeChanges({ previous, report: report([pod('kept-1', 'stale')]), scope: ['shop'] });
    expect(result.changes).toEqual([
      {
        cluster: 'prod-mesh',
        sweepId: 'sweep-2',
        observedAt: NOW,
        namespace: 'shop',
        name: 'old-1',
        uid: 'uid-old-1',
        workload: { kind: 'Deployment', name: 'old-1' },
        state: null,
        findings: [],
        previousState: 'expired',
        previousFindings: ['sds-pushes-stopped'],
        previousObservedAt: '2025-06-01T11:55:00.000Z',
        change: 'gone',
      },
    ]);
    expect(result.writes).toEqual([{ kind: 'delete', uid: 'uid-old-1' }]);

    const everything = computeChanges({ previous, report: report([pod('kept-1', 'stale')]), scope: 'all' });
    expect(everything.changes.map((c) => c.name)).toEqual(['other-ns-1', 'old-1']);
  });

  it('declares gone only a ledger pod the sweep did not judge, when the report keeps only some of the judged pods', () => {
    const previous = [entry('old-1', 'expired'), entry('judged-1', 'stale')];
    // judged-1 was judged (and is not in report.pods: whoever kept the report dropped it); old-1 was not.
    const result = computeChanges({ previous, report: report([]), scope: 'all', judgedUids: new Set(['uid-judged-1', 'uid-web-1']) });
    expect(result.changes.map((c) => [c.name, c.change])).toEqual([['old-1', 'gone']]);
    expect(computeChanges({ previous, report: report([]), scope: 'all' }).changes.map((c) => c.name)).toEqual(['judged-1', 'old-1']);
  });

  it('with an "all except" scope, declares gone only ledger pods outside the excluded namespaces', () => {
    const previous = [entry('old-1', 'expired'), entry('excluded-1', 'stale', [], { namespace: 'kube-system', uid: 'uid-excluded' })];
    const result = computeChanges({ previous, report: report([]), scope: { allExcept: ['kube-system'] } });
    expect(result.changes.map((c) => [c.name, c.change])).toEqual([['old-1', 'gone']]);
    expect(result.writes).toEqual([{ kind: 'delete', uid: 'uid-old-1' }]);
  });

  it("carries the sweep's summary in every Unhealthy detail (the remediator's breaker reads it)", () => {
    const pods = [pod('a-1', 'expired'), pod('b-1', 'healthy'), pod('c-1', 'stale')];
    const { unhealthy } = computeChanges({ previous: [], report: report(pods), scope: 'all' });
    expect(unhealthy.map((d) => d.sweepSummary)).toEqual([summaryOf(pods), summaryOf(pods)]);
    expect(unhealthy[0]!.sweepSummary).toMatchObject({ sampled: 3, healthy: 1, expired: 1, stale: 1 });
  });

  it('never declares a pod gone on a partial sweep, but still processes the pods it saw', () => {
    const previous = [entry('old-1', 'expired'), entry('seen-1', 'stale')];
    const { changes, writes } = computeChanges({
      previous,
      report: report([pod('seen-1', 'expired')], { partial: true }),
      scope: 'all',
    });
    expect(changes.map((c) => [c.name, c.change])).toEqual([['seen-1', 'worsened']]);
    expect(writes.map((w) => w.kind)).toEqual(['put']);
  });

  it('treats a recreated pod (same name, new uid) as gone + opened', () => {
    const previous = [entry('db-0', 'expired')];
    const recreated = pod('db-0', 'stale', [], { uid: 'uid-db-0-new' });
    const { changes } = computeChanges({ previous, report: report([recreated]), scope: 'all' });
    expect(changes.map((c) => [c.uid, c.change])).toEqual([
      ['uid-db-0-new', 'opened'],
      ['uid-db-0', 'gone'],
    ]);
  });

  it('deletes a stray healthy ledger item without an event', () => {
    const { changes, writes } = computeChanges({ previous: [entry('a', 'healthy')], report: report([pod('a', 'healthy')]), scope: 'all' });
    expect(changes).toEqual([]);
    expect(writes).toEqual([{ kind: 'delete', uid: 'uid-a' }]);
  });

  it('lists on each Unhealthy event of a tbot-served pod every pod not healthy that the same agent serves', () => {
    const agent = { pod: 'tbot-a', version: '18.5.0' };
    const other = { pod: 'tbot-b', version: '18.6.4' };
    const onB = { node: 'ip-b', agent: other };
    const pods = [
      pod('carts-1', 'stale', ['sds-push-without-rotation', 'tbot-outdated'], { agent }),
      pod('orders-1', 'expiring', ['sds-push-without-rotation', 'tbot-outdated'], { agent }),
      pod('web-1', 'healthy', ['tbot-outdated'], { agent }),
      pod('api-1', 'stale', ['sds-pushes-stopped'], onB),
      pod('files-1', 'stale', ['sds-pushes-stopped']),
    ];
    const { unhealthy } = computeChanges({ previous: [], report: report(pods), scope: 'all' });
    const byName = new Map(unhealthy.map((d) => [d.name, d]));
    const served = [
      { namespace: 'shop', name: 'carts-1', state: 'stale', findings: ['sds-push-without-rotation', 'tbot-outdated'] },
      { namespace: 'shop', name: 'orders-1', state: 'expiring', findings: ['sds-push-without-rotation', 'tbot-outdated'] },
    ];
    expect(byName.get('carts-1')).toMatchObject({ agentPods: served, agentPodsTotal: 2 });
    expect(byName.get('orders-1')).toMatchObject({ agentPods: served, agentPodsTotal: 2 });
    // Healthy with a finding: not a pod a restart fixes, but it still says which ones would be.
    expect(byName.get('web-1')).toMatchObject({ agentPods: served, agentPodsTotal: 2 });
    // Another agent on another node: only its own pods; no agent: no list.
    expect(byName.get('api-1')).toMatchObject({ agentPods: [{ namespace: 'shop', name: 'api-1', state: 'stale', findings: ['sds-pushes-stopped'] }], agentPodsTotal: 1 });
    expect(byName.get('files-1')).not.toHaveProperty('agentPods');
  });

  it('keeps at most AGENT_PODS_LIMIT pods in agentPods and counts them all', () => {
    const agent = { pod: 'tbot-a', version: '18.5.0' };
    const pods = Array.from({ length: AGENT_PODS_LIMIT + 7 }, (_, i) => pod(`carts-${i}`, 'stale', ['sds-push-without-rotation'], { agent }));
    const { unhealthy } = computeChanges({ previous: [], report: report(pods), scope: 'all' });
    expect(unhealthy).toHaveLength(AGENT_PODS_LIMIT + 7);
    expect(unhealthy[0]!.agentPods).toHaveLength(AGENT_PODS_LIMIT);
    expect(unhealthy[0]!.agentPodsTotal).toBe(AGENT_PODS_LIMIT + 7);
  });

  it('rejects a report whose evaluation instant is not a timestamp', () => {
    expect(() => computeChanges({ previous: [], report: { ...report([]), now: 'yesterday' }, scope: 'all' })).toThrow(ConfigError);
  });
});
