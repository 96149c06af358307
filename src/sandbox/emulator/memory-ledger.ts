/**
 * An in-memory findings ledger for tests, benchmarks and simulations: what DynamoLedger keeps
 * (each pod's last recorded state, per cluster), without DynamoDB. A batch of writes is applied
 * in one pass, so a 50,000-pod sweep stays linear.
 */
import type { LedgerEntry, LedgerWrite } from '../../core/events/changes.js';
import type { FindingsLedger } from '../../ports/findings-ledger.js';

export class MemoryLedger implements FindingsLedger {
  private readonly clusters = new Map<string, readonly LedgerEntry[]>();

  async load(cluster: string): Promise<readonly LedgerEntry[]> {
    return this.clusters.get(cluster) ?? [];
  }

  async apply(cluster: string, writes: readonly LedgerWrite[]): Promise<void> {
    const replaced = new Set(writes.map((write) => (write.kind === 'put' ? write.entry.uid : write.uid)));
    const kept = (this.clusters.get(cluster) ?? []).filter((entry) => !replaced.has(entry.uid));
    this.clusters.set(cluster, [...kept, ...writes.flatMap((write) => (write.kind === 'put' ? [write.entry] : []))]);
  }
}
