/**
 * An in-memory rotation history store for unit tests, the demo and `watch`: what the S3 store
 * does (newest snapshot per cluster, every snapshot kept), without S3.
 */
import type { HistorySnapshot } from '../../core/judgement/history.js';
import type { RotationHistoryStore } from '../../ports/rotation-history.js';

export class MemoryHistoryStore implements RotationHistoryStore {
  /** Every snapshot saved, oldest first, as the JSON text a store would hold. */
  readonly saved: { readonly cluster: string; readonly text: string }[] = [];
  /** Set to make the next load or save fail (then cleared). */
  failNext: { readonly operation: 'load' | 'save'; readonly error: Error } | null = null;

  async load(cluster: string): Promise<HistorySnapshot | null> {
    this.maybeFail('load');
    const latest = this.saved.filter((entry) => entry.cluster === cluster).at(-1);
    return latest ? (JSON.parse(latest.text) as HistorySnapshot) : null;
  }

  async save(snapshot: HistorySnapshot): Promise<void> {
    this.maybeFail('save');
    this.saved.push({ cluster: snapshot.cluster, text: JSON.stringify(snapshot) });
  }

  private maybeFail(operation: 'load' | 'save'): void {
    if (this.failNext?.operation !== operation) return;
    const { error } = this.failNext;
    this.failNext = null;
    throw error;
  }
}
