/** Sweep-level aggregation and ordering. */
import { STATE_SEVERITY, type State, type Summary } from '../model/types.js';

/** Counts sampled pods per state; `skipped` = injected pods that were not Running. */
export function summarize(pods: readonly { readonly state: State }[], skipped: number): Summary {
  const counts: Record<State, number> = { healthy: 0, stale: 0, expiring: 0, expired: 0, missing: 0, unreachable: 0 };
  for (const pod of pods) counts[pod.state] += 1;
  return { sampled: pods.length, skipped, ...counts };
}

/** The most severe state (see STATE_SEVERITY), or null when there is none. */
export function worstState(states: Iterable<State>): State | null {
  let worst: State | null = null;
  for (const state of states) {
    if (worst === null || STATE_SEVERITY[state] > STATE_SEVERITY[worst]) worst = state;
  }
  return worst;
}

/** Sort comparator: worst state first, then namespace, then name. */
export function compareByWorst(
  a: { readonly state: State; readonly namespace: string; readonly name: string },
  b: { readonly state: State; readonly namespace: string; readonly name: string },
): number {
  return (
    STATE_SEVERITY[b.state] - STATE_SEVERITY[a.state] ||
    compareText(a.namespace, b.namespace) ||
    compareText(a.name, b.name)
  );
}

// Code-point order, so sorting does not depend on the host locale.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
