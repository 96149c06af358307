/**
 * The findings ledger in DynamoDB: the last known unhealthy state of each pod, per cluster.
 *
 * Why: change events ("Pod Certificate State Changed") need the previous sweep's verdict, and
 * Lambdas keep no state between invocations. One item per pod that needs attention
 * (`pk` = cluster, `sk` = pod uid), read with one paginated Query per sweep and updated with
 * batched writes; `src/core/events/changes.ts` decides what to write. `expiresAt` (epoch seconds) is
 * the table's TTL attribute.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../config/tables.js';
import type { LedgerEntry, LedgerWrite } from '../core/events/changes.js';
import { ConfigError, MeshCertWatchError } from '../core/model/errors.js';
import { backoffDelayMs, sleep } from '../core/model/retry.js';
import { FINDINGS, STATES, type Finding, type State, type WorkloadRef } from '../core/model/types.js';

/** Key layout shared with the stack that creates the table. */
const { partitionKey: LEDGER_PARTITION_KEY, sortKey: LEDGER_SORT_KEY, timeToLive: LEDGER_TTL_ATTRIBUTE } = TABLE_KEYS;
/** BatchWriteItem limit. */
export const MAX_BATCH_WRITE = 25;

export interface DynamoLedgerOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
  /** Query `Limit` per page (default: none, DynamoDB pages at 1 MB). */
  readonly queryPageSize?: number;
  /** Tries per batch for `UnprocessedItems`, first included (default 6). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** A ledger item that cannot be read back as a `LedgerEntry`. */
export class LedgerItemError extends MeshCertWatchError {
  constructor(
    readonly cluster: string,
    readonly uid: string,
    message: string,
  ) {
    super('AWS', `ledger item ${cluster}/${uid}: ${message}`);
  }
}

type Item = Record<string, unknown>;

const STATE_SET = new Set<string>(STATES);
const FINDING_SET = new Set<string>(FINDINGS);

function toItem(cluster: string, e: LedgerEntry): Item {
  return {
    [LEDGER_PARTITION_KEY]: cluster,
    [LEDGER_SORT_KEY]: e.uid,
    namespace: e.namespace,
    name: e.name,
    state: e.state,
    findings: [...e.findings],
    workload: e.workload ? { kind: e.workload.kind, name: e.workload.name } : null,
    observedAt: e.observedAt,
    sweepId: e.sweepId,
    ...(e.expiresAt !== undefined ? { [LEDGER_TTL_ATTRIBUTE]: e.expiresAt } : {}),
  };
}

function fromItem(cluster: string, item: Item): LedgerEntry {
  const uid = item[LEDGER_SORT_KEY];
  if (typeof uid !== 'string') throw new LedgerItemError(cluster, String(uid), 'no sort key');
  const bad = (what: string): never => {
    throw new LedgerItemError(cluster, uid, what);
  };
  const str = (key: string): string => (typeof item[key] === 'string' ? (item[key] as string) : bad(`${key} is not a string`));
  const state = str('state');
  if (!STATE_SET.has(state)) bad(`unknown state ${JSON.stringify(state)}`);
  const findings = item.findings;
  if (!Array.isArray(findings) || !findings.every((f) => typeof f === 'string' && FINDING_SET.has(f))) bad('findings are not known findings');
  const w = item.workload;
  let workload: WorkloadRef | null = null;
  if (w !== null && w !== undefined) {
    const { kind, name } = w as { kind?: unknown; name?: unknown };
    if (typeof kind !== 'string' || typeof name !== 'string') bad('workload is not {kind, name}');
    workload = { kind: kind as string, name: name as string };
  }
  const expiresAt = item[LEDGER_TTL_ATTRIBUTE];
  if (expiresAt !== undefined && typeof expiresAt !== 'number') bad(`${LEDGER_TTL_ATTRIBUTE} is not a number`);
  return {
    uid,
    namespace: str('namespace'),
    name: str('name'),
    state: state as State,
    findings: findings as Finding[],
    workload,
    observedAt: str('observedAt'),
    sweepId: str('sweepId'),
    ...(typeof expiresAt === 'number' ? { expiresAt } : {}),
  };
}

export class DynamoLedger {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly queryPageSize: number | undefined;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: DynamoLedgerOptions) {
    if (options.tableName.trim() === '') throw new ConfigError('tableName', 'must not be empty');
    this.doc =
      options.client instanceof DynamoDBDocumentClient
        ? options.client
        : DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = options.tableName;
    this.queryPageSize = options.queryPageSize;
    this.maxAttempts = options.maxAttempts ?? 6;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new ConfigError('maxAttempts', 'must be an integer >= 1');
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 2_000;
    this.sleep = options.sleep ?? sleep;
    this.random = options.random ?? Math.random;
  }

  /** Every entry of `cluster` (one strongly consistent Query, all pages). */
  async load(cluster: string): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    let startKey: Item | undefined;
    do {
      let page;
      try {
        page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': LEDGER_PARTITION_KEY },
            ExpressionAttributeValues: { ':pk': cluster },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
            Limit: this.queryPageSize,
          }),
        );
      } catch (cause) {
        throw new MeshCertWatchError('AWS', `could not read the ledger of ${cluster} from ${this.tableName}`, { cause });
      }
      for (const item of page.Items ?? []) entries.push(fromItem(cluster, item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return entries;
  }

  /**
   * Apply `writes` for `cluster`: 25 per BatchWriteItem, `UnprocessedItems` retried with
   * exponential backoff and jitter. Several writes for one uid collapse to the last one
   * (BatchWriteItem rejects duplicate keys). Throws a typed error with the count of writes
   * that could not be applied.
   */
  async apply(cluster: string, writes: readonly LedgerWrite[]): Promise<void> {
    const byUid = new Map<string, LedgerWrite>();
    for (const w of writes) {
      const uid = w.kind === 'put' ? w.entry.uid : w.uid;
      byUid.delete(uid); // keep the order of the last write
      byUid.set(uid, w);
    }
    const requests = [...byUid.values()].map((w) =>
      w.kind === 'put'
        ? { PutRequest: { Item: toItem(cluster, w.entry) } }
        : { DeleteRequest: { Key: { [LEDGER_PARTITION_KEY]: cluster, [LEDGER_SORT_KEY]: w.uid } } },
    );
    for (let i = 0; i < requests.length; i += MAX_BATCH_WRITE) {
      await this.writeBatch(cluster, requests.slice(i, i + MAX_BATCH_WRITE));
    }
  }

  private async writeBatch(cluster: string, batch: NonNullable<BatchWriteCommandOutput['UnprocessedItems']>[string]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt += 1) {
      let output: BatchWriteCommandOutput;
      try {
        output = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      } catch (cause) {
        throw new MeshCertWatchError('AWS', `ledger write for ${cluster} failed (${pending.length} item(s) not written)`, { cause });
      }
      pending = output.UnprocessedItems?.[this.tableName] ?? [];
      if (pending.length === 0) return;
      if (attempt >= this.maxAttempts) {
        throw new MeshCertWatchError(
          'AWS',
          `ledger write for ${cluster}: ${pending.length} item(s) still unprocessed after ${attempt} attempts`,
        );
      }
      await this.sleep(backoffDelayMs(attempt - 1, this.baseDelayMs, this.maxDelayMs, this.random));
    }
  }
}
