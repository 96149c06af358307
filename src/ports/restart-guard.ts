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
 * contract, which `test/remediator/restart-guard.test.ts` runs against each (`DynamoRestartGuard` in src/aws,
 * `InMemoryRestartGuard` in src/cli).
 *
 * Keys are built in `src/core/remediation/remediation.ts` (`workloadKey`, `budgetKey`); the guard treats them as
 * opaque strings.
 */

import type { RestartRecord } from '../core/remediation/restart-record.js';

export type { RestartRecord } from '../core/remediation/restart-record.js';

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
