/** What the restart guard keeps of each restart, so later sweeps can verify it worked (src/ports/restart-guard.ts). */
export interface RestartRecord {
  /** The value written to the restartedAt annotation (RFC 3339, seconds). */
  readonly restartedAt: string;
  /** sweepId of the event that triggered the restart. */
  readonly triggeredBy: string;
  /** Leaf serial numbers of the pods that triggered it: new pods must not serve them again. */
  readonly serials: readonly string[];
}
