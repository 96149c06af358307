/** The `sweep --remediate` plan/outcome table, in the same kubectl style as the sweep table. */
import { RESTART_OUTCOMES } from './events.js';
import type { RemediationDetail } from './remediation.js';
import { renderColumns } from './render.js';
import { cleanText } from './scrub.js';

export const REMEDIATION_COLUMNS = ['NAMESPACE', 'POD', 'STATE', 'WORKLOAD', 'OUTCOME', 'REASON', 'DETAIL'] as const;

function cell(text: string): string {
  const clean = cleanText(text);
  return clean === '' ? '<none>' : clean;
}

export function renderRemediationTable(details: readonly RemediationDetail[], dryRun: boolean): string {
  const title = dryRun ? 'Remediation plan (dry-run: nothing was changed)' : 'Remediation';
  if (details.length === 0) return `${title}: no pod needs attention.\n`;
  const rows = details.map((d) => [
    cell(d.namespace),
    cell(d.pods.map((p) => p.name).join(',')),
    cell(d.pods.map((p) => p.state).join(',')),
    cell(`${d.workload.kind}/${d.workload.name}`),
    d.outcome,
    d.reason,
    cell(d.message),
  ]);
  const counts = RESTART_OUTCOMES.map((outcome) => `${outcome} ${details.filter((d) => d.outcome === outcome).length}`).join(', ');
  return `${title}:\n${renderColumns([REMEDIATION_COLUMNS, ...rows])}\n\n${counts}\n`;
}
