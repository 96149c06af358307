/**
 * The persisted half of remediation safety, as a port: a per-workload lease (one restart per
 * cooldown window, even when the same event is delivered several times at once), a per-cluster
 * restart budget over a sliding 60-minute window, and a record of each restart for the
 * verification of later sweeps.
 *
 * The budget is `limit` slots per cluster. Taking a unit claims a slot that is free or whose last
 * claim is at least one window old; each slot therefore holds at most one restart in any window,
 * and `limit` slots never more than `limit` restarts in any 60 minutes (a UTC clock-hour counter
 * would allow twice the budget across an hour boundary). Every claim is one conditional write.
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
  /** The cluster's budget (`budgetKey`); slots live under it. */
  readonly key: string;
  /** Restarts allowed in any window; 0 allows none. */
  readonly limit: number;
  readonly now: Date;
  /** Length of the sliding window (the remediator uses 3600). */
  readonly windowSeconds: number;
  /** Unique per invocation: a refund gives back only this holder's unit. */
  readonly holder: string;
}

export interface BudgetResult {
  readonly granted: boolean;
  /** Restarts counted in the window ending now, this one included (granted) or as found (refused), when known. */
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
  /** Counts one restart unless `limit` restarts were counted in the window ending now. Atomic. */
  consumeBudget(request: BudgetRequest): Promise<BudgetResult>;
  /**
   * Gives back the unit `holder` took, for a restart that provably did not happen. Never called
   * after an ambiguous outcome (a lost PATCH response may have restarted the workload).
   */
  refundBudget(key: string, holder: string): Promise<void>;
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
  private readonly budgets = new Map<string, ({ holder: string; takenAt: number } | undefined)[]>();
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
    const now = request.now.getTime();
    const windowStart = now - request.windowSeconds * 1000;
    const slots = this.budgets.get(request.key) ?? [];
    this.budgets.set(request.key, slots);
    const live = (index: number): boolean => {
      const slot = slots[index];
      return slot !== undefined && slot.takenAt > windowStart;
    };
    for (let index = 0; index < request.limit; index++) {
      if (live(index)) continue;
      slots[index] = { holder: request.holder, takenAt: now };
      return { granted: true, used: countLive(request.limit, live) };
    }
    return { granted: false, used: countLive(request.limit, live) };
  }

  async refundBudget(key: string, holder: string): Promise<void> {
    const slots = this.budgets.get(key) ?? [];
    const index = slots.findIndex((slot) => slot?.holder === holder);
    if (index >= 0) slots[index] = undefined;
  }

  async recordRestart(key: string, record: RestartRecord, expiresAt: Date): Promise<void> {
    this.records.set(key, { record: { ...record, serials: [...record.serials] }, expiresAt: expiresAt.getTime() });
  }

  async lastRestart(key: string, now: Date): Promise<RestartRecord | undefined> {
    const entry = this.records.get(key);
    return entry && entry.expiresAt > now.getTime() ? entry.record : undefined;
  }
}

function countLive(limit: number, live: (index: number) => boolean): number {
  let used = 0;
  for (let index = 0; index < limit; index++) if (live(index)) used++;
  return used;
}
