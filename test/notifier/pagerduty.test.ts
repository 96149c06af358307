/**
 * PagerDuty: the digest → Events API v2 rendering, the channel against a local HTTP server that
 * checks events like https://events.pagerduty.com/v2/enqueue does (required fields, sizes, routing
 * key format; 202/400/429/5xx), and the notifier end to end with a Slack and a PagerDuty
 * destination (dynalite for the delivery and incident logs).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigError, PagerDutyError } from '../../src/core/model/errors.js';
import { buildDigest } from '../../src/core/notification/digest.js';
import type { NotificationItem } from '../../src/core/notification/notifications.js';
import { PagerDutyChannel, parseRoutingKeySecret } from '../../src/pagerduty/pagerduty-channel.js';
import { dedupKey, PAGERDUTY_LIMITS, renderPagerDutyEvents, type PagerDutyEvent } from '../../src/pagerduty/pagerduty-events.js';
import { pagerDutyErrors, startFakePagerDuty, type FakePagerDuty } from '../../src/sandbox/emulator/fake-pagerduty.js';
import { startDynalite, type LocalDynamo } from '../remediator/kit.js';
import { DASHBOARD_URL, DEFAULT_SECRET, PAGERDUTY_SECRET, ROUTING_KEY, contextFor, logLines, notifierHarness, type Harness } from './harness.js';
import { changeDetail, changeEvent, FakeClock, restartEvent, sqsEvent, startFakeSlack, type FakeSlack, type PodOptions } from './kit.js';

const change = (options: PodOptions): NotificationItem => ({ kind: 'change', detail: changeDetail(options) });
const digestOf = (items: NotificationItem[]) => buildDigest(items)!;
const KEY = 'prod-eu-1/shop/Deployment/carts';

describe('PagerDuty events from the digest', () => {
  it('triggers on expired with a stable dedup key, the diagnosis and the advice', () => {
    const events = renderPagerDutyEvents(
      digestOf([change({ name: 'carts-1', state: 'expired', findings: ['sds-push-without-rotation'], remainingSeconds: -300 }), change({ name: 'carts-2', state: 'stale' })]),
      { dashboardUrl: DASHBOARD_URL },
      ['expired'],
    );
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({
      event_action: 'trigger',
      dedup_key: `mesh-cert-watch:${KEY}`,
      client: 'mesh-cert-watch',
      client_url: DASHBOARD_URL,
      payload: {
        source: 'prod-eu-1',
        severity: 'critical',
        timestamp: '2026-11-20T03:05:00.000Z',
        component: 'shop/Deployment carts',
        group: 'prod-eu-1/shop',
        class: 'certificate expired',
      },
    });
    expect(event.payload!.summary).toMatch(/^prod-eu-1\/shop Deployment carts: 1 pod expired, 1 stale, leaf 41m old, expired 5m ago · tbot re-sends the old certificate/);
    expect(event.payload!.custom_details).toMatchObject({
      cluster: 'prod-eu-1',
      namespace: 'shop',
      workload: 'Deployment carts',
      state: 'expired',
      pods: ['carts-1 (expired)', 'carts-2 (stale)'],
      findings: ['sds-push-without-rotation'],
      dashboard: DASHBOARD_URL,
    });
    expect(event.payload!.custom_details.advice).toContain('New pods get a new certificate: `kubectl -n shop rollout restart deployment/carts`');
    expect(pagerDutyErrors(JSON.stringify({ routing_key: ROUTING_KEY, ...event }))).toEqual([]);
  });

  it('leaves expiring to Slack unless the destination pages on it, then says error', () => {
    const digest = digestOf([change({ state: 'expiring' })]);
    expect(renderPagerDutyEvents(digest, {}, ['expired'])).toEqual([]);
    expect(renderPagerDutyEvents(digest, {}, ['expired', 'expiring'])[0]!.payload).toMatchObject({ severity: 'error', class: 'certificate expiring' });
  });

  it('resolves when the last pod holding the incident is healthy or gone, not before', () => {
    const healed = digestOf([change({ name: 'carts-1', state: 'healthy', change: 'resolved', previousState: 'expired' })]);
    const stillOpen = new Map([[KEY, { opened: [], closed: ['uid-carts-1'], openAfter: 1 }]]);
    const closed = new Map([[KEY, { opened: [], closed: ['uid-carts-1'], openAfter: 0 }]]);
    expect(renderPagerDutyEvents(healed, { incidents: stillOpen }, ['expired'])).toEqual([]);
    expect(renderPagerDutyEvents(healed, { incidents: closed }, ['expired'])).toEqual([{ event_action: 'resolve', dedup_key: `mesh-cert-watch:${KEY}` }]);
    const gone = digestOf([change({ name: 'carts-1', change: 'gone', previousState: 'expired' })]);
    expect(renderPagerDutyEvents(gone, {}, ['expired'])).toEqual([{ event_action: 'resolve', dedup_key: `mesh-cert-watch:${KEY}` }]);
    // A stale pod turning healthy never opened anything.
    expect(renderPagerDutyEvents(digestOf([change({ state: 'healthy', change: 'resolved', previousState: 'stale' })]), {}, ['expired'])).toEqual([]);
    // Restarts and sweeps are Slack's news.
    expect(renderPagerDutyEvents(digestOf([{ kind: 'restart', detail: { ...JSON.parse(JSON.stringify(restartEvent().detail)) } }]), {}, ['expired'])).toEqual([]);
  });

  it('keeps dedup keys within 255 characters, summaries within 1024 and events within 512 KB', () => {
    const long = 'a'.repeat(250);
    const key = dedupKey(`prod/${long}/Deployment/${long}`);
    expect(key.length).toBe(PAGERDUTY_LIMITS.dedupKey);
    expect(dedupKey(`prod/${long}/Deployment/${long}`)).toBe(key);
    expect(dedupKey(`prod/${long}/Deployment/${long}x`)).not.toBe(key);

    const pods = Array.from({ length: 3000 }, (_, i) => change({ name: `${'p'.repeat(200)}-${i}`, uid: `uid-${i}`, state: 'expired', error: 'x'.repeat(5000) }));
    const event = renderPagerDutyEvents(digestOf(pods), {}, ['expired'])[0]!;
    expect(event.payload!.summary.length).toBeLessThanOrEqual(PAGERDUTY_LIMITS.summary);
    expect(event.payload!.custom_details.pods.length).toBeLessThanOrEqual(21);
    expect(Buffer.byteLength(JSON.stringify({ routing_key: ROUTING_KEY, ...event }))).toBeLessThanOrEqual(PAGERDUTY_LIMITS.eventBytes);
  });

  it('reads a routing key from plain text or JSON, never quoting a bad one', () => {
    expect(parseRoutingKeySecret('pd', ` ${ROUTING_KEY}\n`)).toBe(ROUTING_KEY);
    expect(parseRoutingKeySecret('pd', JSON.stringify({ routingKey: ROUTING_KEY }))).toBe(ROUTING_KEY);
    for (const bad of ['short-SecretValue1', `${ROUTING_KEY}x`, '{"key": "x"}', '{"routingKey": ']) {
      const error = (() => {
        try {
          parseRoutingKeySecret('mesh-cert-watch/pagerduty', bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).setting).toBe('PagerDuty secret mesh-cert-watch/pagerduty');
      expect((error as Error).message).not.toContain('SecretValue1');
    }
  });
});

describe('PagerDutyChannel against the local Events API', () => {
  let pd: FakePagerDuty;
  const clock = new FakeClock();
  const channel = () => new PagerDutyChannel({ endpoint: pd.url, sleep: clock.sleep, clock: clock.now, random: () => 0.5, attempts: 3 });
  const target = () => channel().target('pd', ROUTING_KEY);
  const event = (): PagerDutyEvent => renderPagerDutyEvents(digestOf([change({ state: 'expired' })]), {}, ['expired'])[0]!;
  const deadline = () => clock.now() + 30_000;

  beforeAll(async () => {
    pd = await startFakePagerDuty();
  });
  afterAll(() => pd.close());
  beforeEach(() => {
    pd.requests.length = 0;
    pd.alerts.clear();
    pd.script();
  });

  it('triggers once per workload however often it is sent, and resolves by the same key', async () => {
    await channel().send(target(), event(), { deadline: deadline() });
    await channel().send(target(), event(), { deadline: deadline() });
    expect(pd.alerts.get(`${ROUTING_KEY}#mesh-cert-watch:${KEY}`)).toMatchObject({ status: 'triggered', triggers: 2 });
    await channel().send(target(), { event_action: 'resolve', dedup_key: `mesh-cert-watch:${KEY}` }, { deadline: deadline() });
    expect(pd.alerts.get(`${ROUTING_KEY}#mesh-cert-watch:${KEY}`)).toMatchObject({ status: 'resolved' });
    expect(pd.requests.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(pd.accepted()[0]).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger' });
  });

  it('retries 429 (after Retry-After) and 5xx, then succeeds', async () => {
    const waited: number[] = [];
    const recording = new PagerDutyChannel({ endpoint: pd.url, sleep: async (ms) => void waited.push(ms), clock: clock.now, random: () => 0.5, attempts: 4 });
    pd.script({ status: 429, retryAfter: '2' }, { status: 503 });
    await recording.send(target(), event(), { deadline: deadline() });
    expect(pd.requests.map((r) => r.status)).toEqual([429, 503, 202]);
    expect(waited[0]).toBe(2000);
  });

  it('fails at once on 400, permanent, naming what PagerDuty said and never the routing key', async () => {
    const bad = { ...event(), payload: { ...event().payload!, severity: 'fatal' } } as unknown as PagerDutyEvent;
    const error = await channel().send(target(), bad, { deadline: deadline() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PagerDutyError);
    expect(pd.requests).toHaveLength(1);
    expect((error as Error).message).toContain("answered HTTP 400 (Event object is invalid: 'payload.severity' is invalid");
    expect((error as Error).message).not.toContain(ROUTING_KEY);
    expect(channel().classify(error)).toEqual({ retryable: false, statusCode: 400, credentialRefused: false });
    // A routing key of the wrong length is PagerDuty's 400 too: read the secret again next time.
    const wrongKey = await channel().send({ id: 'x', routingKey: 'short' }, event(), { deadline: deadline() }).catch((e: unknown) => e);
    expect(channel().classify(wrongKey)).toMatchObject({ retryable: false, credentialRefused: true });
  });

  it('refuses an event over 512 KB before sending it', async () => {
    const huge = { ...event(), payload: { ...event().payload!, custom_details: { ...event().payload!.custom_details, diagnosis: ['x'.repeat(600 * 1024)] } } };
    const error = await channel().send(target(), huge, { deadline: deadline() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PagerDutyError);
    expect(pd.requests).toHaveLength(0);
    expect(pagerDutyErrors(JSON.stringify({ routing_key: ROUTING_KEY, ...huge }))).toEqual(['Event object is too large (maximum 512 KB)']);
  });

  it('gives up on 5xx at the last attempt, retryable', async () => {
    pd.script({ status: 500 }, { status: 502 }, { status: 503 });
    const error = await channel().send(target(), event(), { deadline: deadline() }).catch((e: unknown) => e);
    expect(pd.requests.map((r) => r.status)).toEqual([500, 502, 503]);
    expect(channel().classify(error)).toEqual({ retryable: true, statusCode: 503, credentialRefused: false });
  });
});

describe('notifier handler with a Slack and a PagerDuty destination', () => {
  let slack: FakeSlack;
  let pd: FakePagerDuty;
  let dynamo: LocalDynamo;
  let harness: Harness | undefined;

  beforeAll(async () => {
    [slack, pd, dynamo] = await Promise.all([startFakeSlack(), startFakePagerDuty(), startDynalite()]);
  });
  afterAll(async () => {
    await Promise.all([slack.close(), pd.close(), dynamo.close()]);
  });
  beforeEach(() => {
    slack.requests.length = 0;
    slack.script();
    pd.requests.length = 0;
    pd.alerts.clear();
    pd.script();
  });
  afterEach(() => harness?.restore());

  const start = async () => {
    harness = await notifierHarness(
      slack,
      dynamo,
      {
        destinations: [
          { channel: 'slack', secretId: DEFAULT_SECRET, minimumSeverity: 'stale' },
          { channel: 'pagerduty', secretId: PAGERDUTY_SECRET, minimumSeverity: 'expiring', incidentStates: ['expired'] },
        ],
      },
      pd,
    );
    return harness;
  };
  const alert = () => pd.alerts.get(`${ROUTING_KEY}#mesh-cert-watch:${KEY}`);
  const pods = ['carts-1', 'carts-2'];

  it('pages once when a workload expires, keeps it open while a pod is expired, resolves when the last one heals', async () => {
    const h = await start();
    const expired = sqsEvent(pods.map((name) => changeEvent({ name, state: 'expired', previousState: 'expiring', change: 'worsened', sweepId: 'sweep-0002' })), 'a');
    expect(await h.handler(expired)).toEqual({ batchItemFailures: [] });
    expect(slack.requests).toHaveLength(1);
    expect(alert()).toMatchObject({ status: 'triggered', triggers: 1 });

    // SQS delivers the same batch again: neither Slack nor PagerDuty hears twice.
    expect(await h.handler(expired, contextFor('req-2'))).toEqual({ batchItemFailures: [] });
    expect(slack.requests).toHaveLength(1);
    expect(pd.accepted()).toHaveLength(1);

    // One pod healed: the incident stays open.
    const one = sqsEvent([changeEvent({ name: 'carts-1', state: 'healthy', previousState: 'expired', change: 'resolved', sweepId: 'sweep-0003' })], 'b');
    expect(await h.handler(one, contextFor('req-3'))).toEqual({ batchItemFailures: [] });
    expect(alert()).toMatchObject({ status: 'triggered' });
    expect(pd.accepted()).toHaveLength(1);
    expect(slack.requests).toHaveLength(2);

    // The last one is gone (replaced by a rollout): resolved.
    const last = sqsEvent([changeEvent({ name: 'carts-2', change: 'gone', previousState: 'expired', sweepId: 'sweep-0004' })], 'c');
    expect(await h.handler(last, contextFor('req-4'))).toEqual({ batchItemFailures: [] });
    expect(alert()).toMatchObject({ status: 'resolved' });
    expect(pd.accepted().map((e) => e.event_action)).toEqual(['trigger', 'resolve']);

    const lines = logLines(h.output);
    expect(lines.filter((l) => l.message === 'pagerduty events sent').map((l) => l.payloads)).toEqual([1, 0, 1]);
    const emf = lines.filter((l) => '_aws' in l && l.Channel === 'pagerduty');
    expect(emf.map((l) => l.NotificationsSent)).toEqual([1, 0, 1]);
    expect(h.text()).not.toContain(ROUTING_KEY);
  });

  it('retries only the destination that failed: PagerDuty 400 fails the record, Slack is not posted twice', async () => {
    const h = await start();
    pd.script({ status: 400, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: ['scripted'] }) });
    const batch = sqsEvent([changeEvent({ state: 'expired', sweepId: 'sweep-0005' })], 'd');
    expect(await h.handler(batch)).toEqual({ batchItemFailures: [{ itemIdentifier: 'd-1' }] });
    expect(slack.requests).toHaveLength(1);
    const failed = logLines(h.output).find((l) => l.message === 'pagerduty events not sent')!;
    expect(failed).toMatchObject({ channel: 'pagerduty', statusCode: 400, retryable: false, destination: `pagerduty:${PAGERDUTY_SECRET}` });

    expect(await h.handler(batch, contextFor('req-2'))).toEqual({ batchItemFailures: [] });
    expect(slack.requests).toHaveLength(1);
    expect(alert()).toMatchObject({ status: 'triggered', triggers: 1 });
  });

  it('sends PagerDuty nothing for what only Slack wants (stale, restarts)', async () => {
    const h = await start();
    expect(await h.handler(sqsEvent([changeEvent({ state: 'stale' }), restartEvent({ outcome: 'dry-run' })], 'e'))).toEqual({ batchItemFailures: [] });
    expect(slack.requests).toHaveLength(1);
    expect(pd.requests).toHaveLength(0);
  });
});
