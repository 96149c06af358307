/** The `sweep --remediate` plan/outcome table, in the same kubectl style as the sweep table. */
import { RESTART_OUTCOMES } from '../events/events.js';
import type { AgentRestartDetail } from '../remediation/agent-remediation.js';
import type { RemediationDetail } from '../remediation/remediation.js';
import { renderColumns } from './render.js';
import { cleanText } from '../model/scrub.js';

export const REMEDIATION_COLUMNS = ['NAMESPACE', 'POD', 'STATE', 'WORKLOAD', 'OUTCOME', 'REASON', 'DETAIL'] as const;

function cell(text: string): string {
  const clean = cleanText(text);
  return clean === '' ? '<none>' : clean;
}

type Outcome = { readonly detailType: 'Workload Restart'; readonly detail: RemediationDetail } | { readonly detailType: 'Agent Restart'; readonly detail: AgentRestartDetail };

/**
 * An agent restart's row names the pod whose event triggered it, then how many more pods of the
 * node it fixes (`pods` lists them all, the trigger first): `orders-1 (+3 on the node)`.
 */
function agentPodCells(d: AgentRestartDetail): string[] {
  const [first] = d.pods;
  if (first === undefined) return ['<none>', '<none>', '<none>'];
  const more = Math.max(d.podsTotal ?? d.pods.length, d.pods.length) - 1;
  return [cell(first.namespace), cell(`${first.name}${more > 0 ? ` (+${more} on the node)` : ''}`), cell(first.state)];
}

/**
 * One row per remediator outcome: a workload restart, or a node's tbot agent restart (WORKLOAD
 * shows `tbot-agent/<pod> (node X)`), then one `advice` line per node whose agent needs an upgrade.
 */
export function renderRemediationTable(outcomes: readonly (RemediationDetail | Outcome)[], dryRun: boolean): string {
  const title = dryRun ? 'Remediation plan (dry-run: nothing was changed)' : 'Remediation';
  if (outcomes.length === 0) return `${title}: no pod needs attention.\n`;
  const details = outcomes.map((o): Outcome => ('detailType' in o ? o : { detailType: 'Workload Restart', detail: o }));
  const rows = details.map(({ detailType, detail: d }) => [
    ...(detailType === 'Agent Restart' ? agentPodCells(d as AgentRestartDetail) : [cell(d.namespace), cell(d.pods.map((p) => p.name).join(',')), cell(d.pods.map((p) => p.state).join(','))]),
    cell(
      detailType === 'Agent Restart'
        ? `tbot-agent/${(d as AgentRestartDetail).agentPod ?? '?'} (node ${(d as AgentRestartDetail).node})`
        : `${(d as RemediationDetail).workload.kind}/${(d as RemediationDetail).workload.name}`,
    ),
    d.outcome,
    d.reason,
    cell(d.message),
  ]);
  const advice = [
    ...new Set(details.flatMap(({ detailType, detail }) => (detailType === 'Agent Restart' && (detail as AgentRestartDetail).upgradeAdvice ? [(detail as AgentRestartDetail).upgradeAdvice!] : []))),
  ].map((line) => `advice ${cell(line)}`);
  const counts = RESTART_OUTCOMES.map((outcome) => `${outcome} ${details.filter((d) => d.detail.outcome === outcome).length}`).join(', ');
  return `${title}:\n${renderColumns([REMEDIATION_COLUMNS, ...rows])}\n${advice.length > 0 ? `\n${advice.join('\n')}\n` : ''}\n${counts}\n`;
}
