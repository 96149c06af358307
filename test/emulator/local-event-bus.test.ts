/**
 * The demo's EventBridge stand-in: PutEvents through the publisher's port, envelopes as
 * EventBridge delivers them, routing with the stack's own rule patterns; and the sidecar script's
 * re-sent leaf (the same bytes, as a tbot re-sending its cache sends).
 */
import { describe, expect, it } from '@jest/globals';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { notifierEventPattern, remediatorEventPattern } from '../../src/config/event-patterns.js';
import { parseSecretsDump } from '../../src/core/judgement/envoy-secrets.js';
import { LocalEventBus } from '../../src/sandbox/emulator/local-event-bus.js';
import { ACTIVE_SECRETS_PATH, createMeshPki, sidecarSecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';

const bus = () =>
  new LocalEventBus({
    busName: 'mesh-cert-watch',
    rules: [
      { name: 'remediator', pattern: remediatorEventPattern(['expiring', 'expired']) },
      { name: 'notifier', pattern: notifierEventPattern() },
    ],
    clock: () => new Date('2026-03-02T09:00:00.123Z'),
  });

describe('LocalEventBus', () => {
  it('wraps published entries in EventBridge envelopes and queues them for the rules they match', async () => {
    const local = bus();
    const entry = (detailType: string, detail: object) => ({ EventBusName: 'mesh-cert-watch', Source: 'mesh-cert-watch', DetailType: detailType, Detail: JSON.stringify(detail) });
    const answer = await local.send(
      new PutEventsCommand({
        Entries: [
          entry('Pod Certificate Unhealthy', { state: 'expiring', name: 'a' }),
          entry('Pod Certificate Unhealthy', { state: 'stale', name: 'b' }),
          entry('Sweep Completed', { partial: false, failed: false }),
          entry('Sweep Completed', { partial: true, failed: false }),
          entry('Workload Restart', { outcome: 'restarted' }),
        ],
      }),
    );
    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries!.map((e) => e.EventId)).toEqual(local.routed.map((r) => r.event.id));
    expect(local.routed.map((r) => r.rules)).toEqual([['remediator'], [], [], ['notifier'], ['notifier']]);
    expect(local.routed[0]!.event).toMatchObject({ version: '0', source: 'mesh-cert-watch', 'detail-type': 'Pod Certificate Unhealthy', time: '2026-03-02T09:00:00Z', detail: { state: 'expiring', name: 'a' } });
    expect(local.drain('remediator').map((e) => e.detail.name)).toEqual(['a']);
    expect(local.drain('remediator')).toEqual([]);
    expect(local.drain('notifier')).toHaveLength(2);
    expect(() => local.drain('nobody')).toThrow(/no rule named nobody/);
  });

  it('answers like PutEvents: per-entry errors for a wrong bus or a malformed detail, a thrown call above 10 entries', async () => {
    const local = bus();
    const answer = await local.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'other', Source: 'mesh-cert-watch', DetailType: 'Sweep Completed', Detail: '{}' },
          { EventBusName: 'mesh-cert-watch', Source: 'mesh-cert-watch', DetailType: 'Sweep Completed', Detail: '[1]' },
          { EventBusName: 'mesh-cert-watch', Source: 'mesh-cert-watch', DetailType: 'Sweep Completed', Detail: '{"failed":true}' },
        ],
      }),
    );
    expect(answer.FailedEntryCount).toBe(2);
    expect(answer.Entries!.map((e) => e.ErrorCode ?? 'ok')).toEqual(['ResourceNotFoundException', 'MalformedDetail', 'ok']);
    const eleven = Array.from({ length: 11 }, () => ({ EventBusName: 'mesh-cert-watch', Source: 'mesh-cert-watch', DetailType: 'Sweep Completed', Detail: '{}' }));
    await expect(local.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('sidecarSecrets with an issued leaf', () => {
  it('serves the same leaf again with a new push time', async () => {
    const pki = await createMeshPki('resend.example');
    const issuedAt = new Date('2026-03-02T08:40:00Z');
    const cert = { servedBy: 'tbot' as const, namespace: 'shop', serviceAccount: 'orders', issuedAt, lifetimeSeconds: 3600 };
    const first = await sidecarSecrets(pki, cert);
    const again = await sidecarSecrets(pki, { ...cert, pushedAt: new Date('2026-03-02T09:20:00Z'), leaf: first.leaf! });
    expect(again.leaf).toBe(first.leaf);
    const [before, after] = [first, again].map((s) => parseSecretsDump(s.responses[ACTIVE_SECRETS_PATH]!));
    const leafOf = (dump: typeof before) => dump!.active.find((s) => s.name === 'default')!;
    expect(leafOf(after).certificateChainPem).toBe(leafOf(before).certificateChainPem);
    expect(leafOf(after).lastUpdated?.toISOString()).toBe('2026-03-02T09:20:00.000Z');
  });
});
