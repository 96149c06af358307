/**
 * The notifier's work for one SQS batch: records → notification items → per destination (a
 * channel and its secret) a digest → the channel's payloads → the records to retry.
 *
 * Per record: parse the EventBridge envelope in its body (an unreadable one is a batch item
 * failure: retried, then dead-lettered, never dropped silently); route it to its destinations
 * (per channel, the destinations that list its namespace, else that channel's catch-all ones);
 * drop what a destination does not want (its severity filter, `policy: ignore`, routine skips;
 * see notifications.ts); claim its delivery key for that destination, so what an earlier attempt
 * already sent there is not sent again.
 *
 * Per destination: build the channel-neutral digest of the claimed items; for channels that keep
 * incidents per workload (PagerDuty), record which pods hold each workload's incident open;
 * render the channel's payloads; wait for the target's rate gate and send each (the adapter
 * retries what is transient within the deadline), then confirm the claims. A failed send
 * releases that destination's claims and fails exactly the records in it; the other
 * destinations are not affected, and their claims keep them from sending twice on the retry.
 */
import { channelLogMessages } from '../config/metric-names.js';
import { ConfigError, describeError } from '../core/model/errors.js';
import { buildDigest } from '../core/notification/digest.js';
import { clusterOf, deliveryKey, parseNotificationEvent, routingNamespace, silenceReason, type NotificationItem } from '../core/notification/notifications.js';
import type { State } from '../core/model/types.js';
import type {
  ChannelName,
  ChannelTarget,
  DeliveryFailure,
  DeliveryLog,
  IncidentChange,
  IncidentLog,
  NotificationChannel,
  PostGate,
  SecretReader,
} from '../ports/notification.js';

export interface SqsRecordLike {
  readonly messageId: string;
  readonly body: string;
}

/** One place notifications go: a channel, the secret that holds its credential, and its filters. */
export interface DestinationSettings {
  readonly channel: ChannelName;
  /** Secrets Manager secret (name or ARN) of the credential. */
  readonly secretId: string;
  /** Only these namespaces' events (and they go nowhere else on this channel); absent: every namespace not claimed by another destination of the channel, and cluster-wide news. */
  readonly namespaces?: readonly string[];
  /** A state change is sent only when its state or previous state is at least this severe. */
  readonly minimumSeverity: State;
  /** For incident channels (PagerDuty): the states that open an incident. @default the channel's */
  readonly incidentStates?: readonly State[];
}

export interface NotifierSettings {
  readonly destinations: readonly DestinationSettings[];
  readonly dashboardUrl?: string;
}

type Fields = Record<string, unknown>;
/** The Powertools Logger fits; fields are structured (never a credential). */
export interface NotifierLog {
  info(message: string, ...fields: Fields[]): void;
  warn(message: string, ...fields: Fields[]): void;
  error(message: string, ...fields: Fields[]): void;
}

export interface NotifierEngine {
  readonly settings: NotifierSettings;
  /** The channel adapters, by name; a destination whose channel is missing fails (a wiring error). */
  readonly channels: Partial<Record<ChannelName, NotificationChannel>>;
  readonly secrets: SecretReader;
  readonly deliveries: DeliveryLog;
  readonly gate: PostGate;
  /** Needed when a destination's channel keeps incidents (PagerDuty). */
  readonly incidents?: IncidentLog;
  readonly log: NotifierLog;
  readonly clock?: () => Date;
}

export interface BatchContext {
  /** Identifies this attempt's claims (e.g. the Lambda request id). */
  readonly holder: string;
  /** Epoch ms after which no send or retry starts. */
  readonly deadline: number;
}

export interface MessageReport {
  /** `channel:secret id` (never the credential). */
  readonly destination: string;
  readonly channel: ChannelName;
  /** Digest of the credential (never the credential). */
  readonly targetId: string | null;
  readonly outcome: 'sent' | 'failed';
  readonly clusters: readonly string[];
  readonly items: number;
  /** Payloads sent (Slack: one message; PagerDuty: one event per workload). */
  readonly payloads: number;
  readonly recordIds: readonly string[];
  readonly error?: string;
  readonly statusCode?: number;
  readonly retryable?: boolean;
}

export interface BatchResult {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
  readonly messages: readonly MessageReport[];
  /** Records that needed nothing sent: silenced everywhere, or already sent by an earlier attempt. */
  readonly quiet: number;
}

interface Claimed {
  readonly recordId: string;
  readonly item: NotificationItem;
  readonly key: string;
}

/** A destination's id in logs, reports and delivery keys. */
export function destinationId(destination: Pick<DestinationSettings, 'channel' | 'secretId'>): string {
  return `${destination.channel}:${destination.secretId}`;
}

/**
 * The destinations an item goes to: per channel, those that list its namespace; when none does,
 * that channel's destinations without a namespace list (cluster-wide items go only to those).
 */
export function destinationsOf(item: NotificationItem, destinations: readonly DestinationSettings[]): DestinationSettings[] {
  const namespace = routingNamespace(item);
  const channels = [...new Set(destinations.map((d) => d.channel))];
  return channels.flatMap((channel) => {
    const mine = destinations.filter((d) => d.channel === channel);
    const listed = namespace === null ? [] : mine.filter((d) => d.namespaces?.includes(namespace));
    return listed.length > 0 ? listed : mine.filter((d) => d.namespaces === undefined);
  });
}

export async function processBatch(records: readonly SqsRecordLike[], engine: NotifierEngine, context: BatchContext): Promise<BatchResult> {
  const { settings, log } = engine;
  const clock = engine.clock ?? (() => new Date());
  const failures = new Set<string>();
  const byDestination = new Map<string, { destination: DestinationSettings; entries: Claimed[] }>();
  for (const destination of settings.destinations) byDestination.set(destinationId(destination), { destination, entries: [] });
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
    let claimedAnywhere = false;
    for (const destination of destinationsOf(item, settings.destinations)) {
      const id = destinationId(destination);
      const silence = silenceReason(item, destination);
      if (silence !== null) {
        log.info('notification not posted', { messageId: record.messageId, destination: id, why: silence });
        continue;
      }
      const key = `${id}#${deliveryKey(item)}`;
      try {
        const claim = await engine.deliveries.claim(key, context.holder, clock());
        if (claim !== 'claimed') {
          log.info('notification already handled', { messageId: record.messageId, destination: id, key, claim });
          continue;
        }
      } catch (error) {
        log.error('notification could not be claimed', { messageId: record.messageId, destination: id, key, error: describeError(error) });
        failures.add(record.messageId);
        continue;
      }
      claimedAnywhere = true;
      byDestination.get(id)!.entries.push({ recordId: record.messageId, item, key });
    }
    if (!claimedAnywhere && !failures.has(record.messageId)) quiet += 1;
  }

  const messages: MessageReport[] = [];
  for (const { destination, entries } of byDestination.values()) {
    if (entries.length === 0) continue;
    const report = await deliver(destination, entries, engine, context, clock);
    messages.push(report);
    if (report.outcome === 'failed') for (const id of report.recordIds) failures.add(id);
  }

  // SQS retries exactly these; a record is listed once however many of its parts failed.
  const batchItemFailures = records.filter((r) => failures.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId }));
  return { batchItemFailures: [...new Map(batchItemFailures.map((f) => [f.itemIdentifier, f])).values()], messages, quiet };
}

/** Per workload of the digest: which pods open or close its incident; the log says how many stay open. */
async function trackIncidents(
  destination: DestinationSettings,
  states: readonly State[],
  workloads: NonNullable<ReturnType<typeof buildDigest>>['workloads'],
  incidents: IncidentLog,
  now: Date,
): Promise<Map<string, IncidentChange>> {
  const changes = new Map<string, IncidentChange>();
  for (const workload of workloads) {
    const opened = workload.pods.filter((p) => p.state !== null && states.includes(p.state)).map((p) => p.uid);
    // Only pods that were at an incident state close one: a stale pod turning healthy never opened any.
    const closed = workload.pods.filter((p) => !opened.includes(p.uid) && p.previousState !== null && states.includes(p.previousState)).map((p) => p.uid);
    if (opened.length === 0 && closed.length === 0) continue;
    const openAfter = await incidents.update(destinationId(destination), workload.key, opened, closed, now);
    changes.set(workload.key, { opened, closed, openAfter });
  }
  return changes;
}

async function deliver(destination: DestinationSettings, entries: readonly Claimed[], engine: NotifierEngine, context: BatchContext, clock: () => Date): Promise<MessageReport> {
  const { log } = engine;
  const id = destinationId(destination);
  const logMessages = channelLogMessages(destination.channel);
  const clusters = [...new Set(entries.map((e) => clusterOf(e.item)))].sort();
  const recordIds = [...new Set(entries.map((e) => e.recordId))];
  const base = { destination: id, channel: destination.channel, clusters, items: entries.length, recordIds };
  const channel = engine.channels[destination.channel];
  let target: ChannelTarget | null = null;
  let sent = 0;
  try {
    if (!channel) throw new ConfigError(`destinations[${id}].channel`, `no ${destination.channel} adapter is wired into the notifier`);
    const secretText = await engine.secrets.read(destination.secretId);
    const resolved = channel.target(destination.secretId, secretText);
    target = resolved;
    const digest = buildDigest(entries.map((e) => e.item));
    if (digest !== null) {
      const states = destination.incidentStates ?? channel.incidentStates;
      let incidents: Map<string, IncidentChange> | undefined;
      if (states !== undefined) {
        if (!engine.incidents) throw new ConfigError(`destinations[${id}]`, `the ${destination.channel} channel keeps incidents but no incident log is wired into the notifier`);
        incidents = await trackIncidents(destination, states, digest.workloads, engine.incidents, clock());
      }
      const payloads = channel.render(digest, {
        ...(engine.settings.dashboardUrl ? { dashboardUrl: engine.settings.dashboardUrl } : {}),
        ...(incidents ? { incidents } : {}),
        ...(states ? { incidentStates: states } : {}),
      });
      for (const payload of payloads) {
        await channel.send(resolved, payload, { deadline: context.deadline, beforeAttempt: () => engine.gate.acquire(resolved.id, context.deadline, channel.minIntervalMs) });
        sent += 1;
      }
    }
  } catch (error) {
    const failure: DeliveryFailure = channel ? channel.classify(error) : { retryable: false, credentialRefused: false };
    // A refused credential (revoked webhook, rotated secret): read the secret again on the retry.
    if (failure.credentialRefused) engine.secrets.invalidate(destination.secretId);
    log.error(logMessages.failed, {
      ...base,
      targetId: target?.id ?? null,
      payloads: sent,
      statusCode: failure.statusCode,
      retryable: failure.retryable,
      error: describeError(error),
    });
    for (const entry of entries) {
      try {
        await engine.deliveries.release(entry.key, context.holder);
      } catch (releaseError) {
        // The claim expires after its lease; the retry comes after the visibility timeout, later still.
        log.warn('notification claim not released', { key: entry.key, error: describeError(releaseError) });
      }
    }
    return {
      ...base,
      targetId: target?.id ?? null,
      outcome: 'failed',
      payloads: sent,
      error: describeError(error),
      retryable: failure.retryable,
      ...(failure.statusCode !== undefined ? { statusCode: failure.statusCode } : {}),
    };
  }

  const now = clock();
  for (const entry of entries) {
    try {
      await engine.deliveries.confirm(entry.key, context.holder, now);
    } catch (error) {
      // Sent: failing the record would send it again. The claim expires; only a duplicate SQS
      // delivery after that could repeat it.
      log.error('sent notification not recorded as delivered', { key: entry.key, error: describeError(error) });
    }
  }
  log.info(logMessages.sent, { ...base, targetId: target.id, payloads: sent });
  return { ...base, targetId: target.id, outcome: 'sent', payloads: sent };
}
