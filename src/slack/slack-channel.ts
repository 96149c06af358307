/**
 * Slack as a NotificationChannel: one Block Kit message per digest (slack-message.ts), posted to
 * the destination's incoming webhook (webhook-poster.ts: 429 `Retry-After` honoured, 5xx and
 * network errors retried within the deadline). A 4xx other than 429 is permanent and means the
 * URL may have been revoked or rotated: the engine reads the secret again next time.
 */
import { SlackError } from '../core/model/errors.js';
import type { Digest } from '../core/notification/digest.js';
import type { DeliveryFailure, NotificationChannel, RenderContext, SendOptions } from '../ports/notification.js';
import { renderSlackDigest, type SlackMessage } from './slack-message.js';
import { SlackWebhookPoster, type Webhook, type WebhookPosterOptions } from './webhook-poster.js';
import { isSlackWebhookUrl, parseWebhookSecret, webhookId } from './webhook-url.js';

export interface SlackChannelOptions {
  readonly poster?: SlackWebhookPoster;
  readonly posterOptions?: WebhookPosterOptions;
  /** Which webhook URLs a secret may hold. @default https://hooks.slack.com only */
  readonly acceptUrl?: (url: URL) => boolean;
}

export class SlackChannel implements NotificationChannel<Webhook, SlackMessage> {
  readonly name = 'slack' as const;
  private readonly poster: SlackWebhookPoster;

  constructor(private readonly options: SlackChannelOptions = {}) {
    this.poster = options.poster ?? new SlackWebhookPoster(options.posterOptions);
  }

  target(secretId: string, secretText: string): Webhook {
    const url = parseWebhookSecret(secretId, secretText, this.options.acceptUrl ?? isSlackWebhookUrl);
    return { id: webhookId(url), url };
  }

  render(digest: Digest, context: RenderContext): readonly SlackMessage[] {
    return [renderSlackDigest(digest, context.dashboardUrl ? { dashboardUrl: context.dashboardUrl } : {})];
  }

  send(target: Webhook, payload: SlackMessage, options: SendOptions): Promise<void> {
    return this.poster.post(target, payload, options);
  }

  classify(error: unknown): DeliveryFailure {
    if (!(error instanceof SlackError)) return { retryable: false, credentialRefused: false };
    const status = error.statusCode;
    const base = status !== undefined ? { statusCode: status } : {};
    if (status === undefined || status === 429 || status >= 500) return { ...base, retryable: true, credentialRefused: false };
    return { ...base, retryable: false, credentialRefused: status >= 400 && status < 500 };
  }
}
