/**
 * The notifier's DynamoDB table (`deliveryTableName`: `pk` + `sk` strings, TTL on `expiresAt`
 * epoch seconds, see src/config/tables.ts). Two kinds of items, both written with one
 * conditional write each, so concurrent invocations are serialised by DynamoDB:
 *
 *  - delivery: pk `delivery#<digest of the delivery key>`, sk `delivery`; status `pending`
 *    (claimed by `holder` until `leaseUntil`) or `delivered`. A claim succeeds when there is no
 *    item, or a pending one whose lease ran out (its holder died or failed to release it).
 *    Delivered items live `retentionSeconds` (longer than the queue keeps messages), so a retried
 *    or duplicated SQS message finds them and is not posted again.
 *  - rate:     pk `rate#<webhook id>`, sk `rate`; `nextAt` (epoch ms) is the earliest instant
 *    the next post to that webhook may start. `acquire` moves it forward by the interval if it
 *    has passed, else waits until it has: at most one message per interval per webhook across
 *    every invocation of the function (a channel may ask for its own interval).
 *  - incident: pk `incident#<digest of destination and workload>`, sk `incident`; `pods`, the
 *    string set of pod uids that hold the workload's incident open at that destination
 *    (PagerDuty). ADD and DELETE in one update: a retried batch changes nothing more.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigError, MeshCertWatchError, TimeoutError, describeError } from '../core/model/errors.js';
import { sleep as realSleep } from '../core/model/retry.js';
import { deliveryDigest } from '../core/notification/notifications.js';
import { TABLE_KEYS } from '../config/tables.js';
import type { ClaimResult, DeliveryLog, IncidentLog, PostGate } from '../ports/notification.js';

const PK = TABLE_KEYS.partitionKey;
const SK = TABLE_KEYS.sortKey;
const TTL = TABLE_KEYS.timeToLive;

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

function documentClient(client: DynamoDBClient | DynamoDBDocumentClient): DynamoDBDocumentClient {
  return client instanceof DynamoDBDocumentClient ? client : DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const epochSeconds = (at: Date): number => Math.floor(at.getTime() / 1000);

/**
 * Attribute `name` of the item a failed condition saw: from the error (ReturnValuesOnCondition-
 * CheckFailure, raw wire form) when the service returned it, else read back consistently.
 */
async function conflictingAttribute(doc: DynamoDBDocumentClient, tableName: string, key: Record<string, string>, error: unknown, name: string): Promise<unknown> {
  const old = (error as { Item?: Record<string, { S?: string; N?: string }> }).Item;
  if (old !== undefined) {
    const value = old[name];
    return value?.S ?? (value?.N !== undefined ? Number(value.N) : undefined);
  }
  const output = await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return output.Item?.[name];
}

export interface DynamoDeliveryLogOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long a claim blocks others: longer than one invocation, shorter than the queue's visibility timeout. */
  readonly leaseSeconds: number;
  /** How long a delivered item is remembered. @default 5 days (the queue keeps messages 4) */
  readonly retentionSeconds?: number;
}

export class DynamoDeliveryLog implements DeliveryLog {
  private readonly doc: DynamoDBDocumentClient;
  private readonly retentionSeconds: number;

  constructor(private readonly options: DynamoDeliveryLogOptions) {
    if (options.tableName.trim() === '') throw new ConfigError('deliveryTableName', 'must not be empty');
    this.doc = documentClient(options.client);
    this.retentionSeconds = options.retentionSeconds ?? 5 * 24 * 3600;
  }

  private keyOf(key: string): Record<string, string> {
    return { [PK]: `delivery#${deliveryDigest(key)}`, [SK]: 'delivery' };
  }

  async claim(key: string, holder: string, now: Date): Promise<ClaimResult> {
    const leaseUntil = epochSeconds(now) + this.options.leaseSeconds;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...this.keyOf(key), key, status: 'pending', holder, claimedAt: now.toISOString(), leaseUntil, [TTL]: leaseUntil + this.retentionSeconds },
          ConditionExpression: 'attribute_not_exists(#pk) OR (#status = :pending AND #lease < :now)',
          ExpressionAttributeNames: { '#pk': PK, '#status': 'status', '#lease': 'leaseUntil' },
          ExpressionAttributeValues: { ':pending': 'pending', ':now': epochSeconds(now) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!isConditionFailure(error)) throw this.failure(`claim notification ${key}`, error);
      try {
        const status = await conflictingAttribute(this.doc, this.options.tableName, this.keyOf(key), error, 'status');
        return status === 'delivered' ? 'delivered' : 'in-flight';
      } catch (readError) {
        throw this.failure(`read notification ${key}`, readError);
      }
    }
  }

  async confirm(key: string, holder: string, now: Date): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: this.keyOf(key),
          UpdateExpression: 'SET #status = :delivered, deliveredAt = :now, #ttl = :ttl REMOVE leaseUntil',
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL },
          ExpressionAttributeValues: { ':delivered': 'delivered', ':now': now.toISOString(), ':ttl': epochSeconds(now) + this.retentionSeconds, ':holder': holder },
        }),
      );
    } catch (error) {
      throw this.failure(`record notification ${key} as delivered`, error);
    }
  }

  async release(key: string, holder: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: this.keyOf(key),
          ConditionExpression: 'holder = :holder AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':holder': holder, ':pending': 'pending' },
        }),
      );
    } catch (error) {
      // Someone else holds it now (our lease ran out): theirs is not ours to release.
      if (isConditionFailure(error)) return;
      throw this.failure(`release notification ${key}`, error);
    }
  }

  private failure(what: string, error: unknown): MeshCertWatchError {
    return new MeshCertWatchError('AWS', `${what} in ${this.options.tableName}: ${describeError(error)}`, { cause: error });
  }
}

export interface DynamoPostGateOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
  /** Minimum spacing of posts to one webhook (1000 / maxMessagesPerSecond). */
  readonly intervalMs: number;
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class DynamoPostGate implements PostGate {
  private readonly doc: DynamoDBDocumentClient;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: DynamoPostGateOptions) {
    this.doc = documentClient(options.client);
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  async acquire(webhookId: string, deadline: number, intervalMs = this.options.intervalMs): Promise<void> {
    for (;;) {
      const now = this.clock();
      const key = { [PK]: `rate#${webhookId}`, [SK]: 'rate' };
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: key,
            UpdateExpression: 'SET nextAt = :next, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(nextAt) OR nextAt <= :now',
            ExpressionAttributeNames: { '#ttl': TTL },
            ExpressionAttributeValues: { ':next': now + intervalMs, ':now': now, ':ttl': Math.floor(now / 1000) + 86_400 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) {
          throw new MeshCertWatchError('AWS', `rate gate for webhook ${webhookId} in ${this.options.tableName}: ${describeError(error)}`, { cause: error });
        }
        let nextAt: number;
        try {
          const value = await conflictingAttribute(this.doc, this.options.tableName, key, error, 'nextAt');
          nextAt = typeof value === 'number' ? value : now + 1;
        } catch (readError) {
          throw new MeshCertWatchError('AWS', `rate gate for webhook ${webhookId} in ${this.options.tableName}: ${describeError(readError)}`, { cause: readError });
        }
        const wait = Math.max(1, nextAt - now);
        if (now + wait > deadline) throw new TimeoutError(`webhook ${webhookId} is busy until ${new Date(nextAt).toISOString()}, after the deadline`);
        await this.sleep(wait);
      }
    }
  }
}

export interface DynamoIncidentLogOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long an untouched incident is remembered. @default 14 days */
  readonly retentionSeconds?: number;
}

export class DynamoIncidentLog implements IncidentLog {
  private readonly doc: DynamoDBDocumentClient;
  private readonly retentionSeconds: number;

  constructor(private readonly options: DynamoIncidentLogOptions) {
    this.doc = documentClient(options.client);
    this.retentionSeconds = options.retentionSeconds ?? 14 * 24 * 3600;
  }

  async update(destination: string, workloadKey: string, open: readonly string[], close: readonly string[], now: Date): Promise<number> {
    const closing = close.filter((uid) => !open.includes(uid));
    const key = { [PK]: `incident#${deliveryDigest(`${destination}#${workloadKey}`)}`, [SK]: 'incident' };
    const sets: string[] = ['#ttl = :ttl', 'workload = :workload', 'destination = :destination'];
    const values: Record<string, unknown> = { ':ttl': epochSeconds(now) + this.retentionSeconds, ':workload': workloadKey, ':destination': destination };
    let expression = `SET ${sets.join(', ')}`;
    if (open.length > 0) {
      expression += ' ADD pods :open';
      values[':open'] = new Set(open);
    }
    if (closing.length > 0) {
      expression += ' DELETE pods :close';
      values[':close'] = new Set(closing);
    }
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: key,
          UpdateExpression: expression,
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const pods = output.Attributes?.pods as Set<string> | undefined;
      return pods?.size ?? 0;
    } catch (error) {
      throw new MeshCertWatchError('AWS', `incident of ${workloadKey} at ${destination} in ${this.options.tableName}: ${describeError(error)}`, { cause: error });
    }
  }
}
