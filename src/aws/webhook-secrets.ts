/**
 * Slack webhook URLs from Secrets Manager, cached per container for `ttlSeconds` (a rotated
 * secret is picked up within that time, or at once after Slack refused the old URL: the engine
 * calls `invalidate`).
 *
 * The secret holds the URL as plain text or as JSON `{ "url": "..." }`. It must be an
 * `https://hooks.slack.com/...` URL; tests pass another `acceptUrl` for their local server.
 * Neither the value nor anything derived from it but a digest appears in errors or logs.
 */
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { createHash } from 'node:crypto';
import { ConfigError, MeshCertWatchError, describeError } from '../core/model/errors.js';
import type { Webhook } from '../slack/webhook-poster.js';

export interface SecretsClient {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

/** The production rule: HTTPS to Slack's incoming-webhook host, with a path. */
export function isSlackWebhookUrl(url: URL): boolean {
  return url.protocol === 'https:' && url.hostname === 'hooks.slack.com' && url.port === '' && url.pathname.length > 1 && url.username === '' && url.password === '';
}

/** Short stable id of a webhook URL (sha-256 prefix): loggable, and the rate-limit key. */
export function webhookId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

const EXPECTED = 'must hold a Slack incoming-webhook URL (https://hooks.slack.com/...), as plain text or as JSON {"url": "..."}';

/** The URL in a secret value; throws a ConfigError that does not quote the value. */
export function parseWebhookSecret(secretId: string, value: string, acceptUrl: (url: URL) => boolean = isSlackWebhookUrl): string {
  let text = value.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError(`webhook secret ${secretId}`, `${EXPECTED}; it looks like JSON but does not parse`);
    }
    const url = (parsed as { url?: unknown } | null)?.url;
    if (typeof url !== 'string') throw new ConfigError(`webhook secret ${secretId}`, `${EXPECTED}; the JSON has no "url" string`);
    text = url.trim();
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`webhook secret ${secretId}`, EXPECTED);
  }
  if (!acceptUrl(url)) throw new ConfigError(`webhook secret ${secretId}`, EXPECTED);
  return url.toString();
}

export interface SecretsManagerWebhooksOptions {
  readonly client: SecretsClient;
  /** @default 300 */
  readonly ttlSeconds?: number;
  readonly acceptUrl?: (url: URL) => boolean;
  readonly clock?: () => number;
}

export class SecretsManagerWebhooks {
  private readonly cache = new Map<string, { readonly webhook: Webhook; readonly fetchedAt: number }>();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(private readonly options: SecretsManagerWebhooksOptions) {
    this.ttlMs = (options.ttlSeconds ?? 300) * 1000;
    this.clock = options.clock ?? Date.now;
  }

  async resolve(secretId: string): Promise<Webhook> {
    const cached = this.cache.get(secretId);
    if (cached && this.clock() - cached.fetchedAt < this.ttlMs) return cached.webhook;
    let output: GetSecretValueCommandOutput;
    try {
      output = await this.options.client.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (error) {
      throw new MeshCertWatchError('AWS', `reading Slack webhook secret ${secretId}: ${describeError(error)}`, { cause: error });
    }
    const value = output.SecretString ?? (output.SecretBinary ? Buffer.from(output.SecretBinary).toString('utf8') : undefined);
    if (value === undefined) throw new ConfigError(`webhook secret ${secretId}`, `${EXPECTED}; it has no value`);
    const url = parseWebhookSecret(secretId, value, this.options.acceptUrl);
    const webhook: Webhook = { id: webhookId(url), url };
    this.cache.set(secretId, { webhook, fetchedAt: this.clock() });
    return webhook;
  }

  /** Forget a cached URL (Slack refused it: the secret may have been rotated since). */
  invalidate(secretId: string): void {
    this.cache.delete(secretId);
  }
}
