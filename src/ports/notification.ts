/**
 * The notifier's ports: what the notifier engine (src/notifier/engine.ts) needs from the outside
 * world. Adapters implement them and import no engine: the delivery log, post gate and incident
 * log in src/aws/notification-store.ts (DynamoDB), the secrets in src/aws/webhook-secrets.ts
 * (Secrets Manager), the channels in src/slack and src/pagerduty. Tests and the CLI supply their
 * own.
 */
import type { Digest } from '../core/notification/digest.js';
import type { State } from '../core/model/types.js';

/** The channels a destination can name (deployment config `notifications.destinations[].channel`). */
export const CHANNEL_NAMES = ['slack', 'pagerduty'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** Secret values by secret id, cached; `invalidate` after the channel refused the credential. */
export interface SecretReader {
  /** The secret's text; throws a MeshCertWatchError that never quotes the value. */
  read(secretId: string): Promise<string>;
  invalidate(secretId: string): void;
}

/** Something a channel sends to: the credential and a digest of it that is safe to log. */
export interface ChannelTarget {
  /** Short digest of the credential: loggable, and the rate gate's key. */
  readonly id: string;
}

export interface SendOptions {
  /** Epoch ms: give up (throw the last error) rather than wait past it. */
  readonly deadline: number;
  /** Awaited before every attempt (the per-target rate gate). */
  readonly beforeAttempt?: () => Promise<void>;
}

/** Per workload (WorkloadStatus.key): the incident state after this batch, for channels that keep incidents. */
export interface IncidentChange {
  /** Pods of the workload that are now at an incident state (they open or keep the incident). */
  readonly opened: readonly string[];
  /** Pods of the workload that left the incident states in this batch. */
  readonly closed: readonly string[];
  /** Pods still at an incident state after this batch, across every batch so far. */
  readonly openAfter: number;
}

export interface RenderContext {
  readonly dashboardUrl?: string;
  /** Per workload key; present for channels with `incidentStates`. */
  readonly incidents?: ReadonlyMap<string, IncidentChange>;
  /** The destination's incident states (they may differ from the channel's default). */
  readonly incidentStates?: readonly State[];
}

/** How the engine treats a failed send. */
export interface DeliveryFailure {
  /** Transient (429, 5xx, network): a later attempt may succeed. Else permanent (bad payload, refused credential). */
  readonly retryable: boolean;
  readonly statusCode?: number;
  /** The channel refused the credential: read the secret again next time. */
  readonly credentialRefused: boolean;
}

/**
 * One kind of destination: renders the digest into the payloads it sends, sends one payload
 * (retrying what is transient within the deadline), and says which failures are worth a retry.
 */
export interface NotificationChannel<Target extends ChannelTarget = ChannelTarget, Payload = unknown> {
  readonly name: ChannelName;
  /** The target in a secret's text; throws a ConfigError naming the secret, never quoting it. */
  target(secretId: string, secretText: string): Target;
  /** What to send for a digest, in order; empty when the channel has nothing to say about it. */
  render(digest: Digest, context: RenderContext): readonly Payload[];
  send(target: Target, payload: Payload, options: SendOptions): Promise<void>;
  classify(error: unknown): DeliveryFailure;
  /**
   * For channels that open and close incidents per workload: the states that open one. The
   * engine tracks, per destination, which pods hold each workload's incident open (IncidentLog).
   */
  readonly incidentStates?: readonly State[];
  /** Spacing of sends to one target. @default the deployment's maxMessagesPerSecond */
  readonly minIntervalMs?: number;
}

export type ClaimResult = 'claimed' | 'delivered' | 'in-flight';

/**
 * Which notifications were sent, per destination (the key includes it). Protocol: `claim` each
 * item before sending; after the send `confirm` (delivered for good) or `release` (a retry may
 * claim it again). A claim that is never confirmed nor released expires after its lease.
 */
export interface DeliveryLog {
  claim(key: string, holder: string, now: Date): Promise<ClaimResult>;
  confirm(key: string, holder: string, now: Date): Promise<void>;
  release(key: string, holder: string): Promise<void>;
}

/** Spaces sends to one target. */
export interface PostGate {
  /**
   * Resolves when a send to `targetId` may start; throws TimeoutError when that is after
   * `deadline` (epoch ms). `intervalMs` overrides the gate's spacing for this target.
   */
  acquire(targetId: string, deadline: number, intervalMs?: number): Promise<void>;
}

/**
 * Which pods hold a workload's incident open, per destination. Set operations, so a retried
 * batch applies the same change again without harm.
 */
export interface IncidentLog {
  /** Adds `open` and removes `close` (pod uids); returns how many pods stay open. */
  update(destination: string, workloadKey: string, open: readonly string[], close: readonly string[], now: Date): Promise<number>;
}
