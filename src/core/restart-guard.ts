/**
 * The persisted half of remediation safety, as a port: a per-workload lease (one restart per
 * cooldown window, even when the same event is delivered several times at once), a per-cluster
 * hourly restart budget, and a record of each restart for the verification of later sweeps.
 *
 * Why a port: the Lambda keeps this in DynamoDB (conditional writes: the budget holds under any
 * number of concurrent invocations), the CLI in memory (one process). Both obey the same
 * contract, which `test/remediator/restart-guard.test.ts` runs against each.
 *
 * Keys are built in `remediation.ts` (`workloadKey`, `budgetKey`); the guard treats them as
 * opaque strings.
 */

export interface LeaseRequest {
  readonly key: string;
  /** Unique per invocation; only the holder can release its lease. */
  readonly holder: string;
  readonly now: Date;
  readonly ttlSeconds: number;
}

export type LeaseResult =
  | { readonly acquired: true; readonly expiresAt: Date }
  /** `expiresAt` of the live lease, when the store reports it. */
  | { readonly acquired: false; readonly expiresAt?: Date };

export interface BudgetRequest {
  readonly key: string;
  /** Restarts allowed in the window; 0 allows none. */
  readonly limit: number;
  /** When the counter may be forgotten (after its window ended). */
  readonly expiresAt: Date;
}

export interface BudgetResult {
  readonly granted: boolean;
  /** Restarts counted in the window after this request (granted) or as found (refused), when known. */
  readonly used?: number;
}

export interface RestartRecord {
  /** The value written to the restartedAt annotation (RFC 3339, seconds). */
  readonly restartedAt: string;
  /** sweepId of the event that triggered the restart. */
  readonly triggeredBy: string;
  /** Leaf serial numbers of the pods that triggered it: new pods must not serve them again. */
  readonly serials: readonly string[];
}

export interface RestartGuard {
  /** Takes the lease unless a live one (expiresAt > now) exists. */
  acquireLease(request: LeaseRequest): Promise<LeaseResult>;
  /** Gives a lease back early (the restart did not happen); a lease of another holder is left alone. */
  releaseLease(key: string, holder: string): Promise<void>;
  /** Counts one restart in the window unless `limit` is reached. Atomic. */
  consumeBudget(request: BudgetRequest): Promise<BudgetResult>;
  /** Returns one unit taken by `consumeBudget` whose restart did not happen (never below 0). */
  refundBudget(key: string): Promise<void>;
  recordRestart(key: string, record: RestartRecord, expiresAt: Date): Promise<void>;
  /** The last restart recorded for `key` that has not expired at `now`. */
  lastRestart(key: string, now: Date): Promise<RestartRecord | undefined>;
}

/**
 * One process's guard (the CLI): the same contract without persistence. Operations are
 * synchronous under the hood, so concurrent callers in one process cannot interleave inside one.
 */
export class InMemoryRestartGuard implements RestartGuard {
  private readonly leases = new Map<string, { holder: string; expiresAt: number }>();
  // Budget keys name their hour, so a counter never needs to expire within one process.
  private readonly budgets = new Map<string, number>();
  private readonly records = new Map<string, { record: RestartRecord; expiresAt: number }>();

  async acquireLease(request: LeaseRequest): Promise<LeaseResult> {
    const now = request.now.getTime();
    const live = this.leases.get(request.key);
    if (live && live.expiresAt > now) return { acquired: false, expiresAt: new Date(live.expiresAt) };
    const expiresAt = now + request.ttlSeconds * 1000;
    this.leases.set(request.key, { holder: request.holder, expiresAt });
    return { acquired: true, expiresAt: new Date(expiresAt) };
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    if (this.leases.get(key)?.holder === holder) this.leases.delete(key);
  }

  async consumeBudget(request: BudgetRequest): Promise<BudgetResult> {
    const count = this.budgets.get(request.key) ?? 0;
    if (count >= request.limit) return { granted: false, used: count };
    this.budgets.set(request.key, count + 1);
    return { granted: true, used: count + 1 };
  }

  async refundBudget(key: string): Promise<void> {
    const count = this.budgets.get(key) ?? 0;
    if (count > 0) this.budgets.set(key, count - 1);
  }

  async recordRestart(key: string, record: RestartRecord, expiresAt: Date): Promise<void> {
    this.records.set(key, { record: { ...record, serials: [...record.serials] }, expiresAt: expiresAt.getTime() });
  }

  async lastRestart(key: string, now: Date): Promise<RestartRecord | undefined> {
    const entry = this.records.get(key);
    return entry && entry.expiresAt > now.getTime() ? entry.record : undefined;
  }
}
