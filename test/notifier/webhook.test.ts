/** The Slack adapters: webhook secrets (parsing, validation, cache) and the poster's retry rules. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { isSlackWebhookUrl, parseWebhookSecret, SecretsManagerWebhooks, webhookId } from '../../src/aws/webhook-secrets.js';
import { ConfigError, MeshCertWatchError, SlackError } from '../../src/core/model/errors.js';
import type { SlackMessage } from '../../src/slack/slack-message.js';
import { retryAfterMs, scrubWebhook, SlackWebhookPoster } from '../../src/slack/webhook-poster.js';
import { MemorySecrets } from './harness.js';
import { FakeClock, startFakeSlack, type FakeSlack } from './kit.js';

const HOOK = 'https://hooks.slack.com/services/T0000/B0000/XyZsecretToken';

describe('webhook secrets', () => {
  it('accepts a plain URL or JSON {"url"} and only https://hooks.slack.com in production', () => {
    expect(parseWebhookSecret('s', `  ${HOOK}\n`)).toBe(HOOK);
    expect(parseWebhookSecret('s', JSON.stringify({ url: HOOK }))).toBe(HOOK);
    expect(isSlackWebhookUrl(new URL('http://hooks.slack.com/services/x'))).toBe(false);
    expect(isSlackWebhookUrl(new URL('https://hooks.slack.com.evil.example/services/x'))).toBe(false);
    expect(isSlackWebhookUrl(new URL('https://hooks.slack.com/'))).toBe(false);
  });

  it.each([
    ['a URL on another host', 'https://example.com/services/T0/B0/SecretValue1'],
    ['plain http', 'http://hooks.slack.com/services/T0/B0/SecretValue1'],
    ['JSON without url', '{"webhook": "SecretValue1"}'],
    ['broken JSON', '{"url": "SecretValue1"'],
    ['not a URL', 'SecretValue1'],
  ])('rejects %s without quoting the value', (_name, value) => {
    let error: unknown;
    try {
      parseWebhookSecret('mesh-cert-watch/slack-webhook', value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('webhook secret mesh-cert-watch/slack-webhook');
    expect((error as Error).message).not.toContain('SecretValue1');
  });

  it('caches a URL for the TTL, reads it again after invalidate or expiry, and ids it by digest', async () => {
    const clock = new FakeClock();
    const secrets = new MemorySecrets({ a: HOOK });
    const webhooks = new SecretsManagerWebhooks({ client: secrets, ttlSeconds: 300, clock: clock.now });
    const first = await webhooks.resolve('a');
    expect(first).toEqual({ id: webhookId(HOOK), url: HOOK });
    expect(first.id).toMatch(/^[0-9a-f]{16}$/);
    await webhooks.resolve('a');
    expect(secrets.reads).toEqual(['a']);
    webhooks.invalidate('a');
    await webhooks.resolve('a');
    clock.advance(301_000);
    await webhooks.resolve('a');
    expect(secrets.reads).toEqual(['a', 'a', 'a']);
  });

  it('wraps a Secrets Manager failure with the secret id, keeping the cause', async () => {
    const webhooks = new SecretsManagerWebhooks({ client: new MemorySecrets({}) });
    const error = await webhooks.resolve('missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshCertWatchError);
    expect(error).toMatchObject({ code: 'AWS', message: expect.stringContaining('reading Slack webhook secret missing') });
    expect((error as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('SlackWebhookPoster', () => {
  let slack: FakeSlack;
  const message: SlackMessage = { text: 'hello', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hello' } }] };

  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(async () => {
    await slack.close();
  });
  beforeEach(() => {
    slack.requests.length = 0;
    slack.script();
  });

  const webhook = () => ({ id: 'abc', url: `${slack.url}/services/T0/B0/TopSecretPath` });

  it('reads Retry-After as seconds or an HTTP date, 1 s when missing', () => {
    const now = Date.parse('2026-11-20T03:20:00.000Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Fri, 20 Nov 2026 03:20:05 GMT', now)).toBe(5000);
    expect(retryAfterMs(null, now)).toBe(1000);
    expect(retryAfterMs('soon', now)).toBe(1000);
  });

  it('does not wait for a Retry-After longer than it allows: the SQS retry comes later', async () => {
    const clock = new FakeClock();
    const poster = new SlackWebhookPoster({ sleep: clock.sleep, clock: clock.now, maxRetryAfterMs: 10_000 });
    slack.script({ status: 429, retryAfter: '30', body: 'rate_limited' });
    const error = await poster.post(webhook(), message, { deadline: clock.now() + 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackError);
    expect(error).toMatchObject({ statusCode: 429, retryAfterMs: 30_000, message: 'Slack webhook abc answered HTTP 429 (rate_limited)' });
    expect(slack.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('does not retry a 400 and does not start a retry after the deadline', async () => {
    const clock = new FakeClock();
    const poster = new SlackWebhookPoster({ sleep: clock.sleep, clock: clock.now, random: () => 0.5 });
    slack.script({ status: 400, body: 'invalid_blocks' });
    await expect(poster.post(webhook(), message, { deadline: clock.now() + 60_000 })).rejects.toMatchObject({ statusCode: 400 });
    expect(slack.requests).toHaveLength(1);
    slack.script({ status: 503 }, { status: 503 });
    await expect(poster.post(webhook(), message, { deadline: clock.now() + 100 })).rejects.toMatchObject({ statusCode: 503 });
    expect(slack.requests).toHaveLength(2);
  });

  it('posts the payload with link unfurling off', async () => {
    const poster = new SlackWebhookPoster();
    await poster.post(webhook(), message, { deadline: Date.now() + 10_000 });
    expect(slack.requests.map((r) => [r.path, r.body])).toEqual([['/services/T0/B0/TopSecretPath', { ...message, unfurl_links: false, unfurl_media: false }]]);
  });

  it('scrubs the URL and its secret path from any text', () => {
    const url = 'https://hooks.slack.com/services/T0/B0/Secret';
    expect(scrubWebhook(`failed ${url} and /services/T0/B0/Secret`, url)).toBe('failed <webhook> and <webhook-path>');
  });
});
