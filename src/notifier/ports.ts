/**
 * What the notifier engine needs from the outside world, as interfaces: the adapters live in
 * src/aws (Secrets Manager, DynamoDB) and src/slack (the webhook client); tests and the CLI
 * supply their own.
 */
import type { SlackMessage } from '../slack/slack-message.js';
import type { PostOptions, Webhook } from '../slack/webhook-poster.js';

export type { PostOptions, Webhook } from '../slack/webhook-poster.js';

/** Webhook URLs by secret id (cached); `invalidate` after Slack refused a URL. */
export interface WebhookResolver {
  resolve(secretId: string): Promise<Webhook>;
  invalidate(secretId: string): void;
}

export interface WebhookPoster {
  post(webhook: Webhook, message: SlackMessage, options: PostOptions): Promise<void>;
}

export type ClaimResult = 'claimed' | 'delivered' | 'in-flight';

/**
 * Which notifications were posted. Protocol: `claim` each item before posting; after the post
 * `confirm` (delivered for good) or `release` (a retry may claim it again). A claim that is
 * never confirmed nor released expires after its lease.
 */
export interface DeliveryLog {
  claim(key: string, holder: string, now: Date): Promise<ClaimResult>;
  confirm(key: string, holder: string, now: Date): Promise<void>;
  release(key: string, holder: string): Promise<void>;
}

/** Spaces posts to one webhook. */
export interface PostGate {
  /** Resolves when a post to `webhookId` may start; throws TimeoutError when that is after `deadline` (epoch ms). */
  acquire(webhookId: string, deadline: number): Promise<void>;
}
