/**
 * RestartGuard in DynamoDB (the remediator's `budgetTableName`: `pk` + `sk` strings, TTL on
 * `expiresAt` epoch seconds, see src/config/tables.ts).
 *
 * Why conditional writes: the remediator runs as many concurrent Lambda invocations as there are
 * events; an in-memory counter or a read-then-write would let two of them both see "budget
 * left" or "no lease". Every check here is one conditional write, so DynamoDB serialises them.
 *
 * Items:
 *  - lease:   pk `workload#<cluster>#<ns>#<kind>#<name>`, sk `lease`; holder, acquiredAt, expiresAt.
 *             Put if `attribute_not_exists(pk) OR expiresAt < :now`.
 *  - restart: same pk, sk `restart`; restartedAt, triggeredBy, serials, expiresAt (verify window).
 *  - budget:  pk `budget#<cluster>`, sk `slot#<i>` for i < limit; holder, takenAt (epoch ms), expiresAt.
 *             A unit is taken by claiming the first slot whose condition
 *             `attribute_not_exists(pk) OR takenAt <= :windowStart` holds: each slot carries at most
 *             one restart per sliding 60-minute window, so `limit` slots never allow more than
 *             `limit` restarts in any 60 minutes, however many invocations race (one write wins
 *             each slot, the others move on to the next).
 * Dry-run uses the same items under a `dry-run#` prefix, so it never spends the real budget.
 * TTL deletion lags by up to days, so reads compare `expiresAt` themselves.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigError, MeshCertWatchError } from '../core/model/errors.js';
import type { BudgetRequest, BudgetResult, LeaseRequest, LeaseResult, RestartGuard, RestartRecord } from '../ports/restart-guard.js';
import { TABLE_KEYS } from '../config/tables.js';

const PK = TABLE_KEYS.partitionKey;
const SK = TABLE_KEYS.sortKey;
const TTL = TABLE_KEYS.timeToLive;

export const GUARD_SORT_KEYS = { lease: 'lease', restart: 'restart', budgetSlot: 'slot#' } as const;

/** Budget slots stay in the table one day past their window (TTL), for forensics. */
const SLOT_RETENTION_SECONDS = 24 * 3600;

export interface DynamoRestartGuardOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
}

const epochSeconds = (at: Date): number => Math.floor(at.getTime() / 1000);

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

export class DynamoRestartGuard implements RestartGuard {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoRestartGuardOptions) {
    if (options.tableName.trim() === '') throw new ConfigError('budgetTableName', 'must not be empty');
    this.tableName = options.tableName;
    this.doc =
      options.client instanceof DynamoDBDocumentClient
        ? options.client
        : DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async acquireLease(request: LeaseRequest): Promise<LeaseResult> {
    const expiresAt = new Date(request.now.getTime() + request.ttlSeconds * 1000);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [PK]: request.key,
            [SK]: GUARD_SORT_KEYS.lease,
            holder: request.holder,
            acquiredAt: request.now.toISOString(),
            [TTL]: Math.ceil(expiresAt.getTime() / 1000),
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#pk': PK, '#ttl': TTL },
          ExpressionAttributeValues: { ':now': epochSeconds(request.now) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true, expiresAt };
    } catch (error) {
      // A live lease of someone else is an answer, not a failure.
      if (isConditionFailure(error)) {
        const held = (error as { Item?: Record<string, { N?: string }> }).Item?.[TTL]?.N;
        return held === undefined ? { acquired: false } : { acquired: false, expiresAt: new Date(Number(held) * 1000) };
      }
      throw this.failure(`acquire lease ${request.key}`, error);
    }
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [PK]: key, [SK]: GUARD_SORT_KEYS.lease },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      // The lease expired and someone else took it: theirs is not ours to release.
      if (isConditionFailure(error)) return;
      throw this.failure(`release lease ${key}`, error);
    }
  }

  async consumeBudget(request: BudgetRequest): Promise<BudgetResult> {
    if (request.limit <= 0) return { granted: false, used: 0 };
    const now = request.now.getTime();
    const windowStart = now - request.windowSeconds * 1000;
    for (let index = 0; index < request.limit; index++) {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              [PK]: request.key,
              [SK]: `${GUARD_SORT_KEYS.budgetSlot}${index}`,
              holder: request.holder,
              takenAt: now,
              [TTL]: Math.ceil(now / 1000) + request.windowSeconds + SLOT_RETENTION_SECONDS,
            },
            ConditionExpression: 'attribute_not_exists(#pk) OR takenAt <= :windowStart',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':windowStart': windowStart },
          }),
        );
      } catch (error) {
        // Slot taken within the window (possibly by a racing invocation): try the next one.
        if (isConditionFailure(error)) continue;
        throw this.failure(`consume restart budget ${request.key}`, error);
      }
      return { granted: true, ...(await this.liveSlots(request.key, request.limit, windowStart)) };
    }
    return { granted: false, used: request.limit };
  }

  /** How many of the first `limit` slots hold a restart inside the window (informational). */
  private async liveSlots(key: string, limit: number, windowStart: number): Promise<{ used?: number }> {
    try {
      const output = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :slot)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': key, ':slot': GUARD_SORT_KEYS.budgetSlot },
          ConsistentRead: true,
        }),
      );
      const used = (output.Items ?? []).filter((item) => {
        const index = Number(String(item[SK]).slice(GUARD_SORT_KEYS.budgetSlot.length));
        return index < limit && typeof item.takenAt === 'number' && item.takenAt > windowStart;
      }).length;
      return { used };
    } catch {
      // The unit is taken; only the count for the report is unknown.
      return {};
    }
  }

  async refundBudget(key: string, holder: string): Promise<void> {
    let slots: Record<string, unknown>[];
    try {
      const output = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :slot)',
          FilterExpression: 'holder = :holder',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': key, ':slot': GUARD_SORT_KEYS.budgetSlot, ':holder': holder },
          ConsistentRead: true,
        }),
      );
      slots = output.Items ?? [];
    } catch (error) {
      throw this.failure(`refund restart budget ${key}`, error);
    }
    for (const slot of slots) {
      try {
        await this.doc.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { [PK]: key, [SK]: slot[SK] },
            ConditionExpression: 'holder = :holder',
            ExpressionAttributeValues: { ':holder': holder },
          }),
        );
      } catch (error) {
        // The slot was claimed anew by someone else: it is theirs now.
        if (isConditionFailure(error)) continue;
        throw this.failure(`refund restart budget ${key}`, error);
      }
    }
  }

  async recordRestart(key: string, record: RestartRecord, expiresAt: Date): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [PK]: key,
            [SK]: GUARD_SORT_KEYS.restart,
            restartedAt: record.restartedAt,
            triggeredBy: record.triggeredBy,
            serials: [...record.serials],
            [TTL]: epochSeconds(expiresAt),
          },
        }),
      );
    } catch (error) {
      throw this.failure(`record restart ${key}`, error);
    }
  }

  async lastRestart(key: string, now: Date): Promise<RestartRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const output = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: key, [SK]: GUARD_SORT_KEYS.restart }, ConsistentRead: true }));
      item = output.Item;
    } catch (error) {
      throw this.failure(`read restart record ${key}`, error);
    }
    if (!item) return undefined;
    const expiresAt = item[TTL];
    if (typeof expiresAt === 'number' && expiresAt <= epochSeconds(now)) return undefined;
    const { restartedAt, triggeredBy, serials } = item;
    if (typeof restartedAt !== 'string' || typeof triggeredBy !== 'string' || !Array.isArray(serials) || !serials.every((s) => typeof s === 'string')) {
      throw new MeshCertWatchError('AWS', `restart record ${key} is malformed`);
    }
    return { restartedAt, triggeredBy, serials: serials as string[] };
  }

  private failure(what: string, error: unknown): MeshCertWatchError {
    const name = (error as { name?: unknown } | null)?.name;
    return new MeshCertWatchError('AWS', `DynamoDB ${what} in ${this.tableName} failed${typeof name === 'string' ? `: ${name}` : ''}`, { cause: error });
  }
}
