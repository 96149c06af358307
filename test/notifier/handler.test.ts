/**
 * The notifier Lambda handler end to end: SQS records carrying whole EventBridge events, the real
 * @slack/webhook client posting to a local HTTP server that stands in for Slack, the Secrets
 * Manager adapter, dynalite for the delivery log and the rate gate, and a fake clock for waits.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { SLACK_LIMITS } from '../../src/slack/slack-message.js';
import { startDynalite, type LocalDynamo } from '../remediator/kit.js';
import { DASHBOARD_URL, DEFAULT_SECRET, PAYMENTS_SECRET, contextFor, logLines, notifierHarness, webhookUrls, type Harness } from './harness.js';
import { changeEvent, restartEvent, sqsEvent, startFakeSlack, sweepEvent, type FakeSlack } from './kit.js';

let slack: FakeSlack;
let dynamo: LocalDynamo;
let harness: Harness | undefined;

beforeAll(async () => {
  slack = await startFakeSlack();
  dynamo = await startDynalite();
});

afterAll(async () => {
  await slack.close();
  await dynamo.close();
});

beforeEach(() => {
  slack.requests.length = 0;
  slack.script();
});

afterEach(() => harness?.restore());

async function start(overrides: Parameters<typeof notifierHarness>[2] = {}): Promise<Harness> {
  harness = await notifierHarness(slack, dynamo, overrides);
  return harness;
}

const PODS = ['carts-7d9f8b6c5d-2kq9x', 'carts-7d9f8b6c5d-8mfzt', 'carts-7d9f8b6c5d-x2x4q'];
const FOOTER = (sweep: string, at: string) => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: `<${DASHBOARD_URL}|📊 CloudWatch dashboard> · sweep ${sweep} · ${at} UTC` }],
});
const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text, emoji: true } });
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const payload = (text: string, blocks: object[]) => ({ text, blocks, unfurl_links: false, unfurl_media: false });

const opened = () =>
  sqsEvent(
    PODS.map((name) => changeEvent({ name, state: 'stale', findings: ['sds-push-without-rotation'], sweepId: 'sweep-0001' })),
    'opened',
  );
const worsened = () =>
  sqsEvent(
    PODS.map((name) =>
      changeEvent({
        name,
        state: 'expiring',
        previousState: 'stale',
        change: 'worsened',
        findings: ['sds-push-without-rotation'],
        previousFindings: ['sds-push-without-rotation'],
        sweepId: 'sweep-0002',
        ageSeconds: 56 * 60,
        remainingSeconds: 4 * 60,
      }),
    ),
    'worsened',
  );
// The remediator restarts carts for its first pod; the events of the other two meet the lease.
const restarted = () =>
  sqsEvent(
    [
      restartEvent({ pods: [{ name: PODS[0]!, state: 'expiring', findings: ['sds-push-without-rotation'] }] }),
      restartEvent({ outcome: 'skipped', reason: 'cooldown', pods: [{ name: PODS[1]!, state: 'expiring' }] }),
      restartEvent({ outcome: 'skipped', reason: 'cooldown', pods: [{ name: PODS[2]!, state: 'expiring' }] }),
    ],
    'restarted',
  );
const resolved = () =>
  sqsEvent(
    [
      ...PODS.map((name) => changeEvent({ name, change: 'gone', previousState: 'expiring', previousFindings: ['sds-push-without-rotation'], sweepId: 'sweep-0003' })),
      changeEvent({
        name: 'orders-6b7c8d9e0f-4hjkl',
        workload: { kind: 'Deployment', name: 'orders' },
        state: 'healthy',
        change: 'resolved',
        previousState: 'stale',
        previousFindings: ['sds-pushes-stopped'],
        sweepId: 'sweep-0003',
      }),
    ],
    'resolved',
  );

describe('notifier handler: a scripted incident', () => {
  it('posts exactly these four messages for opened, worsened, restarted and resolved, one per batch, one second apart', async () => {
    const h = await start();
    const results = [];
    for (const batch of [opened(), worsened(), restarted(), resolved()]) results.push(await h.handler(batch));

    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }, { batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(slack.requests.map((r) => r.path)).toEqual(Array(4).fill('/services/T0000/B0000/DefaultSecretToken0123456789'));
    expect(slack.requests.map((r) => r.headers['content-type'])).toEqual(Array(4).fill('application/json'));
    const pods = `pods: ${PODS.join(', ')}`;
    expect(slack.requests.map((r) => r.body)).toEqual([
      payload(
        '🚨 mesh-cert-watch: prod-eu-1: 3 pods with new problems · shop: Deployment carts: 3 pods stale, leaf 41m old · tbot re-sends the old certificate (`sds-push-without-rotation`)',
        [
          header('🚨 mesh-cert-watch · prod-eu-1'),
          section('*prod-eu-1*: 3 pods with new problems'),
          section(
            [
              '*🚨 New problems · prod-eu-1 / shop*',
              '• *Deployment carts*: 3 pods stale, leaf 41m old · tbot re-sends the old certificate (`sds-push-without-rotation`)',
              `      ${pods}`,
              '      → Upgrade to tbot 18.6.4 or later (17.x: 17.7.14 or later): older tbot re-sends its cached SVID on every renewal. Until then restart the node\'s tbot agent, not the app: its Envoys reconnect and get a fresh SVID.',
            ].join('\n'),
          ),
          FOOTER('sweep-0001', '2026-11-20 03:05'),
        ],
      ),
      payload(
        '🚨 mesh-cert-watch: prod-eu-1: 3 pods worse · shop: Deployment carts: 3 pods expiring, leaf 56m old, expires in 4m (were stale) · tbot re-sends the old certificate (`sds-push-without-rotation`)',
        [
          header('🚨 mesh-cert-watch · prod-eu-1'),
          section('*prod-eu-1*: 3 pods worse'),
          section(
            [
              '*📈 Worse · prod-eu-1 / shop*',
              '• *Deployment carts*: 3 pods expiring, leaf 56m old, expires in 4m (were stale) · tbot re-sends the old certificate (`sds-push-without-rotation`)',
              `      ${pods}`,
              '      → Upgrade to tbot 18.6.4 or later (17.x: 17.7.14 or later): older tbot re-sends its cached SVID on every renewal. Until then restart the node\'s tbot agent, not the app: its Envoys reconnect and get a fresh SVID.',
              '      → New pods get a new certificate: `kubectl -n shop rollout restart deployment/carts`',
            ].join('\n'),
          ),
          FOOTER('sweep-0002', '2026-11-20 03:05'),
        ],
      ),
      payload('🔁 mesh-cert-watch: prod-eu-1: 1 workload restarted · shop: Deployment carts: restarted (1 pod expiring)', [
        header('🔁 mesh-cert-watch · prod-eu-1'),
        section('*prod-eu-1*: 1 workload restarted'),
        section(['*🔁 Restarts · prod-eu-1 / shop*', '• *Deployment carts*: restarted (1 pod expiring)', `      pods: ${PODS[0]}`].join('\n')),
        FOOTER('sweep-0002', '2026-11-20 03:10'),
      ]),
      payload('✅ mesh-cert-watch: prod-eu-1: 1 pod resolved, 3 pods gone · shop: Deployment carts: 3 pods gone (were expiring, `sds-push-without-rotation`)', [
        header('✅ mesh-cert-watch · prod-eu-1'),
        section('*prod-eu-1*: 1 pod resolved, 3 pods gone'),
        section(
          [
            '*✅ Resolved · prod-eu-1 / shop*',
            '• *Deployment carts*: 3 pods gone (were expiring, `sds-push-without-rotation`)',
            `      ${pods}`,
            '• *Deployment orders*: 1 pod healthy again (was stale, `sds-pushes-stopped`)',
            '      pods: orders-6b7c8d9e0f-4hjkl',
          ].join('\n'),
        ),
        FOOTER('sweep-0003', '2026-11-20 03:05'),
      ]),
    ]);
    // The fake clock only moves when something waits: each later message waited for the gate.
    expect(h.clock.sleeps).toEqual([1000, 1000, 1000]);
  });

  it('does not post again when SQS delivers a batch a second time', async () => {
    const h = await start();
    expect(await h.handler(opened())).toEqual({ batchItemFailures: [] });
    expect(await h.handler(opened(), contextFor('req-2'))).toEqual({ batchItemFailures: [] });
    expect(slack.requests).toHaveLength(1);
  });

  it('stays silent for policy ignore, routine restart skips, complete sweeps and changes below the severity filter', async () => {
    const h = await start({ minimumSeverity: 'expiring' });
    const result = await h.handler(
      sqsEvent([
        restartEvent({ outcome: 'skipped', reason: 'opted-out', policy: 'ignore' }),
        restartEvent({ outcome: 'skipped', reason: 'stale-event' }),
        sweepEvent({ failed: false, partial: false }),
        changeEvent({ state: 'stale' }),
      ]),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(slack.requests).toHaveLength(0);
    expect(logLines(h.output).filter((l) => l.message === 'notification not posted').map((l) => l.why)).toEqual([
      'the workload policy is ignore',
      'routine skip (stale-event)',
      'the sweep was complete',
      'below the severity filter (expiring)',
    ]);
  });
});

describe('notifier handler: Slack answers', () => {
  it('waits for Retry-After after a 429 and then posts the same message', async () => {
    const h = await start();
    slack.script({ status: 429, retryAfter: '7', body: 'rate_limited' });
    expect(await h.handler(opened())).toEqual({ batchItemFailures: [] });
    expect(slack.requests).toHaveLength(2);
    expect(slack.requests[1]!.body).toEqual(slack.requests[0]!.body);
    expect(h.clock.sleeps).toEqual([7000]);
  });

  it('returns only the records of the message that failed with 500 as batch item failures, and posts them on the retry', async () => {
    const h = await start();
    slack.script({ status: 200 }, { status: 500, body: 'internal_error' }, { status: 500 }, { status: 500 });
    const batch = sqsEvent([
      changeEvent({ name: 'carts-a', state: 'expired' }),
      changeEvent({ namespace: 'payments', name: 'checkout-a', workload: { kind: 'Deployment', name: 'checkout' }, state: 'expired' }),
      changeEvent({ name: 'carts-b', state: 'expired' }),
      changeEvent({ namespace: 'payments', name: 'checkout-b', workload: { kind: 'Deployment', name: 'checkout' }, state: 'expired' }),
    ]);
    const first = await h.handler(batch);
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-2' }, { itemIdentifier: 'msg-4' }] });
    const urls = webhookUrls(slack);
    const paths = [new URL(urls.default).pathname, new URL(urls.payments).pathname];
    expect(slack.requests.map((r) => r.path)).toEqual([paths[0], paths[1], paths[1], paths[1]]);

    // SQS redelivers the whole batch's failed records; the shop message is not posted twice.
    const retry = await h.handler({ Records: batch.Records.filter((r) => r.messageId === 'msg-2' || r.messageId === 'msg-4') }, contextFor('req-2'));
    expect(retry).toEqual({ batchItemFailures: [] });
    const again = await h.handler(batch, contextFor('req-3'));
    expect(again).toEqual({ batchItemFailures: [] });
    expect(slack.requests.map((r) => r.path)).toEqual([paths[0], paths[1], paths[1], paths[1], paths[1]]);
    expect(JSON.stringify(slack.requests[4]!.body)).toContain('checkout-a, checkout-b');
  });

  it('fails a record it cannot read without holding back the others', async () => {
    const h = await start();
    const result = await h.handler(sqsEvent(['not json', { 'detail-type': 'Pod Certificate Unhealthy', source: 'mesh-cert-watch', detail: {} }, changeEvent({ state: 'expired' })]));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }, { itemIdentifier: 'msg-2' }] });
    expect(slack.requests).toHaveLength(1);
  });

  it('refuses an event that breaks the contract schema, logging the exact field, and posts the rest of the batch', async () => {
    const h = await start();
    const broken = changeEvent({ state: 'expired' });
    const result = await h.handler(sqsEvent([{ ...broken, detail: { ...(broken.detail as object), state: 'dying' } }, changeEvent({ state: 'expired' })]));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(slack.requests).toHaveLength(1);
    const refused = logLines(h.output).find((l) => l.message === 'unreadable notification record');
    expect(refused).toMatchObject({ messageId: 'msg-1', error: expect.stringMatching(/^detail\.state: Invalid option/) });
  });

  it('routes a namespace with its own webhook there, and reads each secret once per container', async () => {
    const h = await start();
    await h.handler(sqsEvent([changeEvent({ namespace: 'payments', name: 'checkout-a', state: 'expired' }), sweepEvent()]));
    await h.handler(sqsEvent([changeEvent({ namespace: 'payments', name: 'checkout-b', state: 'expired' })], 'second'));
    const urls = webhookUrls(slack);
    expect(slack.requests.map((r) => r.path)).toEqual([new URL(urls.default).pathname, new URL(urls.payments).pathname, new URL(urls.payments).pathname]);
    expect(JSON.stringify(slack.requests[0]!.body)).toContain('sweep sweep-0003 failed');
    expect(h.secrets.reads).toEqual([DEFAULT_SECRET, PAYMENTS_SECRET]);
  });

  it('re-reads a webhook secret after Slack refused the URL', async () => {
    const h = await start();
    slack.script({ status: 404, body: 'no_service' });
    expect(await h.handler(sqsEvent([changeEvent({ state: 'expired' })]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(await h.handler(sqsEvent([changeEvent({ state: 'expired' })]), contextFor('req-2'))).toEqual({ batchItemFailures: [] });
    expect(h.secrets.reads).toEqual([DEFAULT_SECRET, DEFAULT_SECRET]);
    expect(slack.requests).toHaveLength(2);
  });

  it('logs one line per message, posted or not, with its clusters (the dashboard counts them), and emits no custom metric', async () => {
    const h = await start();
    slack.script({ status: 200 }, { status: 400, body: 'invalid_blocks' });
    await h.handler(
      sqsEvent([
        changeEvent({ cluster: 'prod-eu-1', state: 'expired' }),
        changeEvent({ cluster: 'staging-eu-1', state: 'expired' }),
        changeEvent({ cluster: 'prod-eu-1', namespace: 'payments', name: 'checkout-a', state: 'expired' }),
      ]),
    );
    const lines = logLines(h.output);
    expect(lines.filter((l) => '_aws' in l)).toEqual([]);
    const messages = lines.filter((l) => l.message === 'slack message posted' || l.message === 'slack message not posted');
    expect(messages.map((l) => [l.message, l.clusters])).toEqual([
      ['slack message posted', ['prod-eu-1', 'staging-eu-1']],
      ['slack message not posted', ['prod-eu-1']],
    ]);
  });
});

describe('notifier handler: limits and secrets', () => {
  it('turns 120 changed pods into one valid message within Slack limits', async () => {
    const h = await start();
    const events = Array.from({ length: 120 }, (_, i) =>
      changeEvent({
        namespace: `team-${String(i % 60).padStart(2, '0')}`,
        name: `svc-${i}-7d9f8b6c5d-abcde`,
        workload: { kind: 'Deployment', name: `svc-${i}` },
        state: i % 3 === 0 ? 'expired' : 'stale',
        findings: ['sds-push-without-rotation'],
      }),
    );
    expect(await h.handler(sqsEvent(events))).toEqual({ batchItemFailures: [] });
    expect(slack.requests).toHaveLength(1);
    const body = slack.requests[0]!.body as { text: string; blocks: { type: string; text?: { text: string }; elements?: { text: string }[] }[] };
    expect(body.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const block of body.blocks) {
      for (const text of [block.text?.text, ...(block.elements ?? []).map((e) => e.text)].filter((t): t is string => t !== undefined)) {
        expect(text.length).toBeLessThanOrEqual(block.type === 'header' ? SLACK_LIMITS.headerText : SLACK_LIMITS.sectionText);
      }
    }
    expect(body.blocks.at(-2)!.text!.text).toMatch(/^… and \d+ more namespaces with \d+ workloads not shown: see the dashboard\.$/);
    expect(body.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  });

  it('never writes the webhook URL or its secret path to the logs, on success or failure', async () => {
    const h = await start();
    const urls = webhookUrls(slack);
    slack.script({ status: 200 }, { status: 500, body: `upstream error for ${urls.payments}` }, { status: 500 }, { status: 500 }, { status: 403, body: 'invalid_token' });
    await h.handler(sqsEvent([changeEvent({ state: 'expired' }), changeEvent({ namespace: 'payments', name: 'checkout-a', state: 'expired' })]));
    await h.handler(sqsEvent([changeEvent({ name: 'carts-zz', state: 'expired' })], 'b'), contextFor('req-2'));
    // A webhook that does not answer at all (nothing listens on that port).
    h.secrets.values[DEFAULT_SECRET] = 'http://127.0.0.1:9/services/T0000/B2222/UnreachableSecretToken42';
    const unreachable = await h.handler(sqsEvent([changeEvent({ name: 'carts-yy', state: 'expired' })], 'c'), contextFor('req-3'));
    expect(unreachable).toEqual({ batchItemFailures: [{ itemIdentifier: 'c-1' }] });

    const logs = h.text();
    expect(logLines(h.output).filter((l) => l.message === 'slack message not posted')).toHaveLength(3);
    for (const secret of [urls.default, urls.payments, 'DefaultSecretToken0123456789', 'PaymentsSecretToken987654321', 'UnreachableSecretToken42']) {
      expect(logs).not.toContain(secret);
    }
  });
});
