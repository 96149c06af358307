/** The restart guard of one process (the CLI); the contract is the port in src/ports/restart-guard.ts. */
import type { BudgetRequest, BudgetResult, LeaseRequest, LeaseResult, RestartGuard, RestartRecord } from '../ports/restart-guard.js';

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
