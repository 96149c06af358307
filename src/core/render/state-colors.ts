/** One colour per state, shared by the dashboard (lib/constructs/monitoring.ts) and the HTML report, so a state looks the same everywhere. */
import type { State } from '../model/types.js';

export const STATE_COLORS: Readonly<Record<State, string>> = {
  healthy: '#2ca02c',
  stale: '#bcbd22',
  expiring: '#ff7f0e',
  expired: '#d62728',
  missing: '#9467bd',
  unreachable: '#7f7f7f',
};
