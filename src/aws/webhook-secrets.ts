/**
 * Notification secrets from Secrets Manager (a Slack webhook URL, a PagerDuty routing key...),
 * cached per container for `ttlSeconds`: a rotated secret is picked up within that time, or at
 * once after the channel refused the old credential (the engine calls `invalidate`). Which text
 * a secret must hold is the channel's business (NotificationChannel.target); this adapter only
 * reads. Neither the value nor anything derived from it appears in errors or logs.
 */
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { ConfigError, MeshCertWatchError, describeError } from '../core/model/errors.js';
import type { SecretReader } from '../ports/notification.js';
import { isSlackWebhookUrl, parseWebhookSecret, webhookId } from '../slack/webhook-url.js';
import type { Webhook } from '../slack/webhook-poster.js';

export { isSlackWebhookUrl, parseWebhookSecret, webhookId } from '../slack/webhook-url.js';

export interface SecretsClient {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

export interface SecretsManagerSecretsOptions {
  readonly client: SecretsClient;
  /** @default 300 */
  readonly ttlSeconds?: number;
  readonly clock?: () => number;
  /** What the secrets are, in error messages. @default 'notification secret' */
  readonly what?: string;
}

export class SecretsManagerSecrets implements SecretReader {
  private readonly cache = new Map<string, { readonly value: string; readonly fetchedAt: number }>();
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly what: string;

  constructor(private readonly options: SecretsManagerSecretsOptions) {
    this.ttlMs = (options.ttlSeconds ?? 300) * 1000;
    this.clock = options.clock ?? Date.now;
    this.what = options.what ?? 'notification secret';
  }

  async read(secretId: string): Promise<string> {
    const cached = this.cache.get(secretId);
    if (cached && this.clock() - cached.fetchedAt < this.ttlMs) return cached.value;
    let output: GetSecretValueCommandOutput;
    try {
      output = await this.options.client.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (error) {
      throw new MeshCertWatchError('AWS', `reading ${this.what} ${secretId}: ${describeError(error)}`, { cause: error });
    }
    const value = output.SecretString ?? (output.SecretBinary ? Buffer.from(output.SecretBinary).toString('utf8') : undefined);
    if (value === undefined) throw new ConfigError(`${this.what} ${secretId}`, 'has no value');
    this.cache.set(secretId, { value, fetchedAt: this.clock() });
    return value;
  }

  /** Forget a cached value (the channel refused it: the secret may have been rotated since). */
  invalidate(secretId: string): void {
    this.cache.delete(secretId);
  }
}

export interface SecretsManagerWebhooksOptions extends Omit<SecretsManagerSecretsOptions, 'what'> {
  readonly acceptUrl?: (url: URL) => boolean;
}

/** Slack webhook URLs by secret id: the reader above plus the Slack URL rules. */
export class SecretsManagerWebhooks {
  private readonly secrets: SecretsManagerSecrets;

  constructor(private readonly options: SecretsManagerWebhooksOptions) {
    this.secrets = new SecretsManagerSecrets({ ...options, what: 'Slack webhook secret' });
  }

  async resolve(secretId: string): Promise<Webhook> {
    const url = parseWebhookSecret(secretId, await this.secrets.read(secretId), this.options.acceptUrl ?? isSlackWebhookUrl);
    return { id: webhookId(url), url };
  }

  invalidate(secretId: string): void {
    this.secrets.invalidate(secretId);
  }
}
