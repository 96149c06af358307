/**
 * The findings ledger: what each pod's state was at the previous sweep, so a sweep emits
 * `Pod Certificate State Changed` only for changes (docs/contract.md). DynamoDB in AWS
 * (src/aws/ledger.ts), memory or dynalite in tests.
 */
import type { LedgerEntry, LedgerWrite } from '../core/events/changes.js';

export interface FindingsLedger {
  load(cluster: string): Promise<readonly LedgerEntry[]>;
  apply(cluster: string, writes: readonly LedgerWrite[]): Promise<void>;
}
