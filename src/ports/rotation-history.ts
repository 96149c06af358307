/**
 * Rotation history (docs/contract.md §8): the newest snapshot of a cluster's observations, read
 * before a sweep judges and written after it. S3 in AWS (src/aws/history-store.ts), a file in the
 * CLI (src/cli/history-file.ts), memory in tests and the demo.
 */
import type { HistorySnapshot } from '../core/judgement/history.js';

export interface RotationHistoryStore {
  /** The newest snapshot of `cluster`, or null when there is none yet. Throws when it cannot be read. */
  load(cluster: string): Promise<HistorySnapshot | null>;
  save(snapshot: HistorySnapshot): Promise<void>;
}
