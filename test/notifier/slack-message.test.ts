/** The pure part of the notifier: reading events, what is worth a message, and the message itself. */
import { describe, expect, it } from '@jest/globals';
import { ZodError } from 'zod';
import { InvalidEventError } from '../../src/core/model/errors.js';
import {
  deliveryKey,
  parseNotificationEvent,
  silenceReason,
  type NotificationItem,
} from '../../src/core/notification/notifications.js';
import { renderPlainText, renderSlackMessage, restartCommand, SLACK_LIMITS, type SlackMessage } from '../../src/slack/slack-message.js';
import { changeDetail, changeEvent, restartDetail, restartEvent, sweepDetail, sweepEvent, type PodOptions } from './kit.js';

const change = (options: PodOptions = {}): NotificationItem => ({ kind: 'change', detail: changeDetail(options) });
const restart = (options: Parameters<typeof restartDetail>[0] = {}): NotificationItem => ({ kind: 'restart', detail: restartDetail(options) });
const sweep = (options: Parameters<typeof sweepDetail>[0] = {}): NotificationItem => ({ kind: 'sweep', detail: sweepDetail(options) });

function render(items: NotificationItem[]): SlackMessage {
  const message = renderSlackMessage(items, { dashboardUrl: 'https://example.com/dash' });
  if (message === null) throw new Error('no message');
  return message;
}

const sectionTexts = (message: SlackMessage): string[] => message.blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : []));

function expectWithinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const block of message.blocks) {
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    if (block.type === 'context') for (const e of block.elements) expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  }
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
}

describe('parseNotificationEvent', () => {
  it('reads an EventBridge envelope and a detail that carries its own detail-type', () => {
    expect(parseNotificationEvent(changeEvent({ state: 'expired' }))).toMatchObject({ kind: 'change', detail: { state: 'expired', change: 'opened' } });
    expect(parseNotificationEvent({ 'detail-type': 'Workload Restart', ...restartDetail() })).toMatchObject({ kind: 'restart', detail: { outcome: 'restarted' } });
    expect(parseNotificationEvent(sweepEvent())).toMatchObject({ kind: 'sweep', detail: { failed: true, errorsTotal: 1 } });
    expect(parseNotificationEvent(changeEvent({ change: 'gone' }))).toMatchObject({ kind: 'change', detail: { state: null, previousState: 'expired' } });
    // In the detail form, `source` is the pod's SDS source, not the event source.
    expect(parseNotificationEvent({ 'detail-type': 'Pod Certificate State Changed', ...changeDetail({ source: 'istio-agent' }) })).toMatchObject({ detail: { source: 'istio-agent' } });
  });

  it.each([
    ['a foreign source', { ...changeEvent(), source: 'aws.ec2' }, 'source'],
    ['an unknown detail-type', { 'detail-type': 'Pod Certificate Unhealthy', detail: {} }, 'detail-type'],
    ['a bad change', changeEvent({ change: 'vanished' as never }), 'detail.change'],
    ['an unknown finding', { ...changeEvent(), detail: { ...changeDetail(), findings: ['cosmic-rays'] } }, 'detail.findings[0]'],
    ['a restart pod without a state', { ...restartEvent(), detail: { ...restartDetail(), pods: [{ name: 'carts-1' }] } }, 'detail.pods[0].state'],
    ['a gone pod with findings', { ...changeEvent({ change: 'gone' }), detail: { ...changeDetail({ change: 'gone' }), findings: ['tbot-outdated'] } }, 'detail.findings'],
    ['a sweep without errorsTotal', { ...sweepEvent(), detail: { ...sweepDetail(), errorsTotal: undefined } }, 'detail.errorsTotal'],
    ['a restart without workload', { ...restartEvent(), detail: { ...restartDetail(), workload: null } }, 'detail.workload'],
    ['a sweep without failed', { ...sweepEvent(), detail: { ...sweepDetail(), failed: 'yes' } }, 'detail.failed'],
  ])('names the field at fault for %s', (_name, event, field) => {
    let error: unknown;
    try {
      parseNotificationEvent(event);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as InvalidEventError).field).toBe(field);
    // Refused by the contract schema: the zod error is kept as the cause (the envelope checks have none).
    if (field.startsWith('detail.')) expect((error as InvalidEventError).cause).toBeInstanceOf(ZodError);
  });
});

describe('silenceReason and deliveryKey', () => {
  it('filters state changes by the worse of state and previous state', () => {
    const filter = { minimumSeverity: 'expiring' as const };
    expect(silenceReason(change({ state: 'stale' }), filter)).toBe('below the severity filter (expiring)');
    expect(silenceReason(change({ state: 'expired' }), filter)).toBeNull();
    expect(silenceReason(change({ state: 'healthy', change: 'resolved', previousState: 'expired' }), filter)).toBeNull();
    expect(silenceReason(change({ change: 'gone', previousState: 'stale' }), filter)).toBe('below the severity filter (expiring)');
  });

  it('keeps page-worthy restart outcomes whatever the severity filter, and drops ignore and routine skips', () => {
    const filter = { minimumSeverity: 'expired' as const };
    for (const reason of ['restart-did-not-fix', 'breaker', 'on-delete', 'budget']) {
      expect(silenceReason(restart({ outcome: 'skipped', reason }), filter)).toBeNull();
    }
    expect(silenceReason(restart({ outcome: 'restarted', policy: 'ignore' }), filter)).toBe('the workload policy is ignore');
    for (const reason of ['cooldown', 'stale-event', 'gone', 'not-restartable']) expect(silenceReason(restart({ outcome: 'skipped', reason }), filter)).toBe(`routine skip (${reason})`);
    expect(silenceReason(sweep({ failed: false, partial: true }), filter)).toBeNull();
  });

  it('keys changes by pod and sweep, restarts by sweep when restarted and by hour otherwise', () => {
    expect(deliveryKey(change({ uid: 'u-1', change: 'worsened', state: 'expired', previousState: 'stale', sweepId: 's-9' }))).toBe('change#prod-eu-1#u-1#worsened#s-9');
    expect(deliveryKey(restart())).toBe('restart#prod-eu-1#shop/Deployment/carts#restarted#sweep-0002');
    const skipped = (at: string) => deliveryKey(restart({ outcome: 'skipped', reason: 'breaker', at, triggeredBy: at }));
    expect(skipped('2026-11-20T03:10:04.000Z')).toBe('restart#prod-eu-1#shop/Deployment/carts#skipped#breaker#2026-11-20T03');
    expect(skipped('2026-11-20T03:55:00.000Z')).toBe(skipped('2026-11-20T03:10:04.000Z'));
    expect(skipped('2026-11-20T04:00:00.000Z')).not.toBe(skipped('2026-11-20T03:10:04.000Z'));
    expect(deliveryKey(sweep())).toBe('sweep#prod-eu-1#sweep-0003');
  });
});

describe('renderSlackMessage', () => {
  it('returns null when there is nothing to say', () => {
    expect(renderSlackMessage([])).toBeNull();
  });

  it('says how many pods, not how many of the workload (the events carry no replica count)', () => {
    const message = render([1, 2, 3].map((i) => change({ name: `carts-${i}`, state: 'stale', findings: ['sds-push-without-rotation'] })));
    expect(sectionTexts(message)[1]).toContain('• *Deployment carts*: 3 pods stale, leaf 41m old · tbot re-sends the old certificate (`sds-push-without-rotation`)');
    expect(sectionTexts(message)[1]).not.toMatch(/\d+\/\d+ pods/);
  });

  it.each([
    ['sds-push-without-rotation', 'tbot', 'Upgrade to tbot 18.6.4 or later (17.x: 17.7.14 or later)'],
    ['sds-pushes-stopped', 'tbot', 'Upgrade to tbot 18.0.1 or later (17.x: 17.5.5 or later)'],
    ['sds-pushes-stopped', 'istio-agent', "Check the istio-proxy logs and the agent's connection to its CA."],
    ['workload-certs-volume', 'tbot', 'Remove the `workload-certs` volume from the pod template'],
    ['identity-mismatch', 'tbot', "Check the workload's SPIFFE registration"],
    ['bundle-mismatch', 'tbot', "Check the trust bundle served for the leaf's trust domain"],
  ] as const)('advises on %s (source %s)', (finding, source, advice) => {
    const text = sectionTexts(render([change({ state: 'expiring', findings: [finding], source })]))[1]!;
    expect(text).toContain(`→ ${advice}`);
    expect(text).toContain('→ New pods get a new certificate: `kubectl -n shop rollout restart deployment/carts`');
  });

  it('explains a leaf from the future without restart advice or a negative expiry', () => {
    const text = sectionTexts(render([change({ state: 'expired', findings: ['not-yet-valid'], ageSeconds: 0, remainingSeconds: 70 * 60 })]))[1]!;
    expect(text).toContain('1 pod expired, leaf 0s old, not valid before 2026-11-20T02:24:00.000Z · the leaf is not valid yet (notBefore in the future): peers reject it (`not-yet-valid`)');
    expect(text).toContain('→ Do not restart: a new pod gets a certificate from the same clock.');
    expect(text).not.toContain('rollout restart');
    expect(text).not.toMatch(/expired -?\d/);
  });

  it('advises on a leaf without SPIFFE ID and on a chain outside its dates', () => {
    const text = sectionTexts(render([change({ state: 'stale', findings: ['identity-mismatch', 'bundle-mismatch'] })]))[1]!;
    expect(text).toContain('the leaf has no SPIFFE ID, or one that does not match');
    expect(text).toContain('an intermediate or root outside its validity');
  });

  it('names the node, the versions and the agent pod when tbot-served pods carry their agent', () => {
    const detail = { ...changeDetail({ state: 'stale', findings: ['sds-push-without-rotation', 'tbot-outdated'] }), agent: { pod: 'tbot-x7k2p', version: '18.5.0' } };
    const text = sectionTexts(render([{ kind: 'change', detail }]))[1]!;
    expect(text).toContain("the node's tbot agent runs a release with a rotation bug (`tbot-outdated`)");
    expect(text).toContain('→ Upgrade tbot on node ip-10-0-1-23.eu-west-1.compute.internal (18.5.0 → 18.6.4).');
    expect(text).toContain("→ Restart the node's tbot agent, not the application: `kubectl -n teleport-system delete pod tbot-x7k2p` (node ip-10-0-1-23.eu-west-1.compute.internal)");
    // The generic tbot advice gives way to the node-specific lines.
    expect(text).not.toContain('Upgrade to tbot 18.6.4 or later');
    // Never "a restart does not help" nor a claim that new pods get the cached certificate.
    expect(text).not.toMatch(/does not help|same cached/);
  });

  it('renders an Agent Restart like a Workload Restart: the node, the agent, no application restarted, the exact upgrade', () => {
    const event = {
      'detail-type': 'Agent Restart',
      cluster: 'prod-eu-1',
      node: 'ip-10-0-1-23.eu-west-1.compute.internal',
      agentPod: 'tbot-x7k2p',
      namespace: 'teleport-system',
      version: '18.5.0',
      upgradeAdvice: 'upgrade tbot on node ip-10-0-1-23.eu-west-1.compute.internal (18.5.0 → 18.6.4)',
      upgradeTo: '18.6.4',
      pods: [{ namespace: 'shop', name: 'carts-7d9f8b6c5d-x2x4q', state: 'expiring', findings: ['sds-push-without-rotation', 'tbot-outdated'] }],
      outcome: 'restarted',
      reason: 'expiring',
      message: 'restart tbot agent teleport-system/tbot-x7k2p',
      triggeredBy: 'sweep-0007',
      at: '2026-11-20T03:05:02.000Z',
      dryRun: false,
    };
    const item = parseNotificationEvent(event);
    expect(item.kind).toBe('agent-restart');
    const message = render([item]);
    const text = sectionTexts(message).join('\n');
    expect(text).toContain('*prod-eu-1*: 1 tbot agent restarted');
    expect(text).toContain('• *tbot agent on node ip-10-0-1-23.eu-west-1.compute.internal*: restarted tbot-x7k2p (tbot 18.5.0), no application pod restarted: every Envoy on the node gets a fresh SVID (1 pod expiring)');
    expect(text).toContain('pods: shop/carts-7d9f8b6c5d-x2x4q');
    expect(text).toContain('→ Upgrade tbot on node ip-10-0-1-23.eu-west-1.compute.internal (18.5.0 → 18.6.4): a restart buys one certificate lifetime, the upgrade is the fix.');
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '🔁 mesh-cert-watch · prod-eu-1', emoji: true } });
    expectWithinLimits(message);
    // Waiting for its turn is routine: not posted; one delivery key per node, outcome and hour.
    expect(silenceReason(parseNotificationEvent({ ...event, outcome: 'skipped', reason: 'agent-busy' }), { minimumSeverity: 'stale' })).toBe('routine skip (agent-busy)');
    expect(silenceReason(item, { minimumSeverity: 'stale' })).toBeNull();
    expect(deliveryKey(item)).toBe('agent-restart#prod-eu-1#ip-10-0-1-23.eu-west-1.compute.internal#restarted#sweep-0007');
    // The upgrade worked: pods that were healthy but served by an outdated agent resolve with a ✅.
    const cleared: NotificationItem = { kind: 'change', detail: changeDetail({ state: 'healthy', change: 'resolved', previousState: 'healthy', previousFindings: ['tbot-outdated'] }) };
    expect(silenceReason(cleared, { minimumSeverity: 'stale' })).toBeNull();
    const quiet: NotificationItem = { kind: 'change', detail: changeDetail({ state: 'healthy', change: 'resolved', previousState: 'healthy', previousFindings: ['workload-certs-volume'] }) };
    expect(silenceReason(quiet, { minimumSeverity: 'stale' })).toContain('severity');
  });

  it('puts page-worthy restarts first, then new problems, worse, sweeps, restarts, better and resolved', () => {
    const message = render([
      change({ name: 'a-1', workload: { kind: 'Deployment', name: 'a' }, state: 'healthy', change: 'resolved', previousState: 'expired' }),
      change({ name: 'b-1', workload: { kind: 'Deployment', name: 'b' }, state: 'stale', change: 'improved', previousState: 'expired' }),
      restart({ workload: { kind: 'Deployment', name: 'c' } }),
      sweep({ failed: false, partial: true, errorsTotal: 0, errors: [], summary: { ...sweepDetail().summary, sampled: 80 } }),
      change({ name: 'd-1', workload: { kind: 'Deployment', name: 'd' }, state: 'expired', change: 'worsened', previousState: 'stale' }),
      change({ name: 'e-1', workload: { kind: 'Deployment', name: 'e' }, state: 'stale' }),
      restart({ workload: { kind: 'StatefulSet', name: 'f' }, outcome: 'skipped', reason: 'restart-did-not-fix', message: 'pod f-0, created after the restart, still serves leaf serial 0A1B2C' }),
    ]);
    expect(sectionTexts(message).slice(1).map((t) => t.split('\n')[0])).toEqual([
      '*🛑 Restarts that need a person · prod-eu-1 / shop*',
      '*🚨 New problems · prod-eu-1 / shop*',
      '*📈 Worse · prod-eu-1 / shop*',
      '*⚠️ Sweeps that did not cover the cluster · prod-eu-1*',
      '*🔁 Restarts · prod-eu-1 / shop*',
      '*📉 Better, not yet healthy · prod-eu-1 / shop*',
      '*✅ Resolved · prod-eu-1 / shop*',
    ]);
    expect(sectionTexts(message)[1]).toContain('• *StatefulSet f*: not restarted: the last restart did not fix it (1 pod expired) · pod f-0, created after the restart, still serves leaf serial 0A1B2C');
    expect(sectionTexts(message)[1]).toContain('upgrade to tbot 18.6.4 or later (17.x: 17.7.14 or later)');
    expect(sectionTexts(message)[4]).toContain('sweep sweep-0003 partial: the deadline stopped it after 80 pods sampled');
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '🚨 mesh-cert-watch · prod-eu-1', emoji: true } });
  });

  it('orders workloads worst first inside a namespace, and namespaces by their worst workload', () => {
    const message = render([
      change({ namespace: 'quiet', name: 'q-1', workload: { kind: 'Deployment', name: 'q' }, state: 'stale' }),
      change({ namespace: 'shop', name: 'carts-1', state: 'stale' }),
      change({ namespace: 'shop', name: 'orders-1', workload: { kind: 'Deployment', name: 'orders' }, state: 'expired', remainingSeconds: -120 }),
    ]);
    const [, first, second] = sectionTexts(message);
    expect(first!.split('\n').filter((l) => l.startsWith('•'))).toEqual([
      '• *Deployment orders*: 1 pod expired, leaf 41m old, expired 2m ago',
      '• *Deployment carts*: 1 pod stale, leaf 41m old',
    ]);
    expect(second!.split('\n')[0]).toBe('*🚨 New problems · prod-eu-1 / quiet*');
  });

  it('tells a bare pod to be deleted, an OnDelete workload to have its pods deleted, and escapes mrkdwn', () => {
    const bare = sectionTexts(render([change({ name: 'debug<1>&x', workload: null, state: 'expired' })]))[1]!;
    expect(bare).toContain('• *Pod debug&lt;1&gt;&amp;x*: 1 pod expired');
    expect(bare).toContain('`kubectl -n shop delete pod debug&lt;1&gt;&amp;x`');
    const onDelete = sectionTexts(render([restart({ outcome: 'skipped', reason: 'on-delete', workload: { kind: 'StatefulSet', name: 'db' }, pods: [{ name: 'db-1', state: 'expired' }, { name: 'db-0', state: 'expired' }] })]))[1]!;
    expect(onDelete).toContain('→ Delete the pods yourself: `kubectl -n shop delete pod db-0 db-1`');
    expect(restartCommand('x', { kind: 'Job', name: 'j' }, [])).toBeNull();
    expect(restartCommand('x', { kind: 'Rollout', name: 'r' }, [])).toBe('kubectl argo rollouts restart r -n x');
  });

  it('keeps 120 changed pods of one namespace within 3000 characters a block, with "… and N more workloads"', () => {
    const items = Array.from({ length: 120 }, (_, i) =>
      change({ name: `svc-${i}-abc`, workload: { kind: 'Deployment', name: `svc-${String(i).padStart(3, '0')}` }, state: 'expired', findings: ['sds-push-without-rotation', 'workload-certs-volume'] }),
    );
    const message = render(items);
    expectWithinLimits(message);
    const text = sectionTexts(message)[1]!;
    const shown = text.split('\n').filter((l) => l.startsWith('•')).length;
    expect(text.endsWith(`\n… and ${120 - shown} more workloads`)).toBe(true);
    expect(shown).toBeGreaterThan(3);
  });

  it('keeps 120 changed pods in 120 namespaces within 50 blocks, with "… and N more namespaces"', () => {
    const items = Array.from({ length: 120 }, (_, i) => change({ namespace: `ns-${String(i).padStart(3, '0')}`, name: `app-${i}`, state: 'expiring' }));
    const message = render(items);
    expectWithinLimits(message);
    expect(message.blocks).toHaveLength(SLACK_LIMITS.blocks);
    expect(sectionTexts(message).at(-1)).toBe('… and 74 more namespaces with 74 workloads not shown: see the dashboard.');
    expect(message.blocks.at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: '<https://example.com/dash|📊 CloudWatch dashboard> · sweep sweep-0001 · 2026-11-20 03:05 UTC' }] });
  });

  it('keeps long error texts, many pods and many clusters within the limits', () => {
    const items = [
      ...Array.from({ length: 30 }, (_, i) => change({ cluster: `cluster-with-a-rather-long-name-${i}`, name: `p-${i}`, state: 'unreachable', error: 'x'.repeat(5000) })),
      sweep({ errors: [{ namespace: null, name: null, error: 'y'.repeat(5000) }] }),
    ];
    const message = render(items);
    expectWithinLimits(message);
    expect(message.blocks[0]!.type === 'header' && message.blocks[0]!.text.text.endsWith('…')).toBe(true);
  });

  it('renders plain text for the preview: links spelled out, no bold markers', () => {
    const text = renderPlainText(render([change({ state: 'expired' })]));
    expect(text).toContain('Deployment carts: 1 pod expired');
    expect(text).toContain('📊 CloudWatch dashboard (https://example.com/dash)');
    expect(text).not.toContain('*');
  });
});
