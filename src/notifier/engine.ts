/**
 * The notifier's work for one SQS batch: records → notification items → at most one Slack
 * message per destination webhook → the records to retry.
 *
 * Per record: parse the EventBridge envelope in its body (an unreadable one is a batch item
 * failure: retried, then dead-lettered, never dropped silently); drop what is not worth a
 * message (severity filter, `policy: ignore`, routine skips; see notifications.ts); claim its
 * delivery key, so what an earlier attempt already posted is not posted again.
 *
 * Per destination (the namespace's webhook, else the default): render one message from the
 * claimed items, wait for the webhook's rate gate, post (429 `Retry-After` honoured, 5xx
 * retried, within the deadline), then confirm the claims. A failed post releases its claims
 * and fails exactly the records in that message; the other destinations are not affected.
 */
import { LOG_MESSAGES } from '../config/metric-names.js';
import { MeshCertWatchError, SlackError, describeError } from '../core/model/errors.js';
import {
  clusterOf,
  deliveryKey,
  parseNotificationEvent,
  routingNamespace,
  silenceReason,
  type NotificationItem,
} from '../core/notification/notifications.js';
import { renderSlackMessage } from '../slack/slack-message.js';
import type { State } from '../core/model/types.js';
import type { DeliveryLog, PostGate, Webhook, WebhookPoster, WebhookResolver } from './ports.js';

export interface SqsRecordLike {
  readonly messageId: string;
  readonly body: string;
}

export interface NotifierSettings {
  readonly webhookSecretId: string;
  readonly namespaceWebhookSecretIds: Readonly<Record<string, string>>;
  readonly minimumSeverity: State;
  readonly dashboardUrl?: string;
}

type Fields = Record<string, unknown>;
/** The Powertools Logger fits; fields are structured (never the webhook URL). */
export interface NotifierLog {
  info(message: string, ...fields: Fields[]): void;
  warn(message: string, ...fields: Fields[]): void;
  error(message: string, ...fields: Fields[]): void;
}

export interface NotifierEngine {
  readonly settings: NotifierSettings;
  readonly webhooks: WebhookResolver;
  readonly poster: WebhookPoster;
  readonly deliveries: DeliveryLog;
  readonly gate: PostGate;
  readonly log: NotifierLog;
  readonly clock?: () => Date;
}

export interface BatchContext {
  /** Identifies this attempt's claims (e.g. the Lambda request id). */
  readonly holder: string;
  /** Epoch ms after which no post or retry starts. */
  readonly deadline: number;
}

export interface MessageReport {
  /** Secret id of the webhook (never the URL). */
  readonly destination: string;
  readonly webhookId: string | null;
  readonly outcome: 'sent' | 'failed';
  readonly clusters: readonly string[];
  readonly items: number;
  readonly recordIds: readonly string[];
  readonly error?: string;
  readonly statusCode?: number;
}

export interface BatchResult {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
  readonly messages: readonly MessageReport[];
  /** Records that needed no message: silenced, or already posted by an earlier attempt. */
  readonly quiet: number;
}

interface Claimed {
  readonly recordId: string;
  readonly item: NotificationItem;
  readonly key: string;
}

export function destinationOf(item: NotificationItem, settings: NotifierSettings): string {
  const namespace = routingNamespace(item);
  return (namespace !== null ? settings.namespaceWebhookSecretIds[namespace] : undefined) ?? settings.webhookSecretId;
}

export async function processBatch(records: readonly SqsRecordLike[], engine: NotifierEngine, context: BatchContext): Promise<BatchResult> {
  const { settings, log } = engine;
  const clock = engine.clock ?? (() => new Date());
  const failures = new Set<string>();
  const claimed: Claimed[] = [];
  let quiet = 0;

  for (const record of records) {
    let item: NotificationItem;
    try {
      item = parseNotificationEvent(JSON.parse(record.body));
    } catch (error) {
      log.error('unreadable notification record', { messageId: record.messageId, error: describeError(error) });
      failures.add(record.messageId);
      continue;
    }
    const silence = silenceReason(item, settings);
    if (silence !== null) {
      quiet += 1;
      log.info('notification not posted', { messageId: record.messageId, why: silence });
      continue;
    }
    const key = deliveryKey(item);
    try {
      const claim = await engine.deliveries.claim(key, context.holder, clock());
      if (claim !== 'claimed') {
        quiet += 1;
        log.info('notification already handled', { messageId: record.messageId, key, claim });
        continue;
      }
    } catch (error) {
      log.error('notification could not be claimed', { messageId: record.messageId, key, error: describeError(error) });
      failures.add(record.messageId);
      continue;
    }
    claimed.push({ recordId: record.messageId, item, key });
  }

  const byDestination = new Map<string, Claimed[]>();
  for (const entry of claimed) {
    const destination = destinationOf(entry.item, settings);
    byDestination.set(destination, [...(byDestination.get(destination) ?? []), entry]);
  }
  const destinations = [...byDestination.keys()].sort((a, b) => Number(b === settings.webhookSecretId) - Number(a === settings.webhookSecretId) || a.localeCompare(b));

  const messages: MessageReport[] = [];
  for (const destination of destinations) {
    const entries = byDestination.get(destination)!;
    const report = await deliver(destination, entries, engine, context, clock);
    messages.push(report);
    if (report.outcome === 'failed') for (const id of report.recordIds) failures.add(id);
  }

  // SQS retries exactly these; a record is listed once however many of its parts failed.
  const batchItemFailures = records.filter((r) => failures.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId }));
  return { batchItemFailures: [...new Map(batchItemFailures.map((f) => [f.itemIdentifier, f])).values()], messages, quiet };
}

async function deliver(destination: string, entries: readonly Claimed[], engine: NotifierEngine, context: BatchContext, clock: () => Date): Promise<MessageReport> {
  const { log } = engine;
  const clusters = [...new Set(entries.map((e) => clusterOf(e.item)))].sort();
  const recordIds = [...new Set(entries.map((e) => e.recordId))];
  const base = { destination, clusters, items: entries.length, recordIds };
  let webhook: Webhook | null = null;
  try {
    webhook = await engine.webhooks.resolve(destination);
    const message = renderSlackMessage(
      entries.map((e) => e.item),
      engine.settings.dashboardUrl ? { dashboardUrl: engine.settings.dashboardUrl } : {},
    );
    if (message === null) throw new MeshCertWatchError('SLACK', 'nothing to render for a non-empty batch');
    const target = webhook;
    await engine.poster.post(target, message, { deadline: context.deadline, beforeAttempt: () => engine.gate.acquire(target.id, context.deadline) });
  } catch (error) {
    const statusCode = error instanceof SlackError ? error.statusCode : undefined;
    // A refused URL (revoked webhook, rotated secret): read the secret again on the retry.
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500 && statusCode !== 429) engine.webhooks.invalidate(destination);
    log.error(LOG_MESSAGES.slackNotPosted, { ...base, webhookId: webhook?.id ?? null, statusCode, error: describeError(error) });
    for (const entry of entries) {
      try {
        await engine.deliveries.release(entry.key, context.holder);
      } catch (releaseError) {
        // The claim expires after its lease; the retry comes after the visibility timeout, later still.
        log.warn('notification claim not released', { key: entry.key, error: describeError(releaseError) });
      }
    }
    return { ...base, webhookId: webhook?.id ?? null, outcome: 'failed', error: describeError(error), ...(statusCode !== undefined ? { statusCode } : {}) };
  }

  const now = clock();
  for (const entry of entries) {
    try {
      await engine.deliveries.confirm(entry.key, context.holder, now);
    } catch (error) {
      // Posted: failing the record would post it again. The claim expires; only a duplicate SQS
      // delivery after that could repeat it.
      log.error('posted notification not recorded as delivered', { key: entry.key, error: describeError(error) });
    }
  }
  log.info(LOG_MESSAGES.slackPosted, { ...base, webhookId: webhook.id });
  return { ...base, webhookId: webhook.id, outcome: 'sent' };
}
