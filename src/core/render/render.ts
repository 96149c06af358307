/**
 * Human output, kubectl style: upper-case headers, columns padded with three spaces, no borders,
 * `<none>` for empty cells. Pure string functions; JSON output is the report objects themselves.
 */
import { tbotBugSummary, tbotUpgradeAdvice } from '../judgement/agents.js';
import { STATES, type AgentReport, type CertificateVerdict, type PodReport, type Summary } from '../model/types.js';
import { cleanText } from '../model/scrub.js';

const NONE = '<none>';
const COLUMN_GAP = '   ';

/**
 * Compact duration like `kubectl get` ages, but with hours and minutes below 8 h (`2h3m`,
 * not `123m`). Negative values (time since expiry) get a leading `-`.
 */
export function formatDuration(seconds: number): string {
  if (seconds < 0) return `-${formatDuration(-seconds)}`;
  const s = Math.floor(seconds);
  if (s < 120) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 10) return withPart(`${minutes}m`, s % 60, 's');
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withPart(`${hours}h`, minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 8) return withPart(`${days}d`, hours % 24, 'h');
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (years < 8) return withPart(`${years}y`, days % 365, 'd');
  return `${years}y`;
}

function withPart(head: string, value: number, unit: string): string {
  return value === 0 ? head : `${head}${value}${unit}`;
}

/** Pads every column but the last to its widest cell; trailing spaces are trimmed. */
export function renderColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join(COLUMN_GAP).trimEnd())
    .join('\n');
}

/** `sampled 12, skipped 1: healthy 8, stale 1, expiring 0, expired 1, missing 0, unreachable 2`. */
export function renderSummaryLine(summary: Summary, partial = false): string {
  const counts = STATES.map((state) => `${state} ${summary[state]}`).join(', ');
  // Due-based sampling: say how many were judged from their last observation, not sampled now.
  const fromHistory = summary.fromHistory === undefined ? '' : ` (${summary.fromHistory} not due: judged from their last observation)`;
  const line = `sampled ${summary.sampled}${fromHistory}, skipped ${summary.skipped}: ${counts}`;
  return partial ? `${line} (partial: the deadline stopped the sweep before every pod was sampled)` : line;
}

export const SWEEP_COLUMNS = ['NAMESPACE', 'NAME', 'WORKLOAD', 'STATE', 'SOURCE', 'AGE', 'REMAINING', 'PUSH-AGE', 'FINDINGS'] as const;

/** One pod's cells of the `sweep` table, in SWEEP_COLUMNS order. */
export function sweepTableRow(pod: PodReport): string[] {
  return [
    cell(pod.namespace),
    cell(pod.name),
    pod.workload ? cell(`${pod.workload.kind}/${pod.workload.name}`) : NONE,
    pod.state,
    pod.source,
    pod.certificate ? formatDuration(pod.certificate.ageSeconds) : NONE,
    pod.certificate ? formatDuration(pod.certificate.remainingSeconds) : NONE,
    formatOptionalDuration(workloadPushAge(pod)),
    pod.findings.length > 0 ? pod.findings.join(',') : NONE,
  ];
}

/** `error <namespace>/<name>: <reason>` for a pod that could not be judged, else null. */
export function sweepErrorLine(pod: PodReport): string | null {
  return pod.error === undefined ? null : `error ${cell(pod.namespace)}/${cell(pod.name)}: ${cell(pod.error)}`;
}

/**
 * The `sweep` table, rows in the given order (sort with `compareByWorst` first), then one
 * `error <namespace>/<name>: <reason>` line per unreachable pod, then the summary line.
 */
export function renderSweepTable(report: {
  readonly pods: readonly PodReport[];
  readonly summary: Summary;
  readonly partial?: boolean;
  readonly agents?: readonly AgentReport[];
  readonly agentsError?: string;
}): string {
  const blocks: string[] = [];
  if (report.pods.length === 0) {
    blocks.push('No pods sampled.');
  } else {
    blocks.push(renderColumns([SWEEP_COLUMNS, ...report.pods.map(sweepTableRow)]));
    const errors = report.pods.map(sweepErrorLine).filter((line) => line !== null);
    if (errors.length > 0) blocks.push(errors.join('\n'));
  }
  const agents = renderAgentsBlock(report);
  if (agents !== null) blocks.push(agents);
  blocks.push(renderSummaryLine(report.summary, report.partial ?? false));
  return `${blocks.join('\n\n')}\n`;
}

export const AGENT_COLUMNS = ['NODE', 'TBOT AGENT', 'VERSION', 'READY', 'PODS', 'UNHEALTHY', 'ADVICE'] as const;

/**
 * The tbot agents that serve sampled pods (or are outdated), then one `advice` line per outdated
 * agent with the bugs it has. Null when the sweep found no agent worth a line.
 */
export function renderAgentsBlock(report: { readonly agents?: readonly AgentReport[]; readonly agentsError?: string }): string | null {
  if (report.agentsError !== undefined) return `tbot agents: not listed: ${cell(report.agentsError)}`;
  const agents = (report.agents ?? []).filter((agent) => agent.podsServed > 0 || agent.outdated);
  if (agents.length === 0) return null;
  const rows = agents.map((agent) => [
    cell(agent.node),
    cell(agent.pod),
    agent.version === null ? 'unknown' : cell(agent.version),
    agent.ready ? 'yes' : 'no',
    String(agent.podsServed),
    String(agent.podsUnhealthy),
    cell(tbotUpgradeAdvice(agent.node, agent.version) ?? NONE),
  ]);
  const why = agents
    .filter((agent) => agent.outdated)
    .map((agent) => `advice ${cell(tbotUpgradeAdvice(agent.node, agent.version)!)}: ${tbotBugSummary(agent.version)}`);
  return [renderColumns([AGENT_COLUMNS, ...rows]), ...(why.length > 0 ? ['', ...why] : [])].join('\n');
}

/** The `inspect` block: verdict and certificate fields, then one row per secret. */
export function renderVerdictTable(verdict: CertificateVerdict): string {
  const fields: string[][] = [
    ['STATE', verdict.state],
    ['SOURCE', verdict.source],
    ['FINDINGS', verdict.findings.length > 0 ? verdict.findings.join(',') : NONE],
  ];
  if (verdict.error !== undefined) fields.push(['ERROR', cell(verdict.error)]);
  const certificate = verdict.certificate;
  if (certificate) {
    fields.push(
      ['SPIFFE ID', certificate.spiffeId === null ? NONE : cell(certificate.spiffeId)],
      ['SERIAL NUMBER', certificate.serialNumber],
      ['SHA-256', certificate.fingerprintSha256],
      ['NOT BEFORE', certificate.notBefore],
      ['NOT AFTER', certificate.notAfter],
      ['AGE', formatDuration(certificate.ageSeconds)],
      ['REMAINING', formatDuration(certificate.remainingSeconds)],
      ['LIFETIME', formatDuration(certificate.lifetimeSeconds)],
    );
  } else {
    fields.push(['CERTIFICATE', NONE]);
  }
  const secretRows = verdict.secrets.map((secret) => [
    cell(secret.name),
    secret.versionInfo === null ? NONE : cell(secret.versionInfo),
    secret.lastUpdated ?? NONE,
    formatOptionalDuration(secret.pushAgeSeconds),
  ]);
  const secrets = secretRows.length > 0 ? renderColumns([['SECRET', 'VERSION', 'LAST UPDATED', 'PUSH-AGE'], ...secretRows]) : 'No secrets.';
  return `${renderColumns(fields)}\n\n${secrets}\n`;
}

/**
 * Push age of the active `default` secret: active secrets are listed before warming ones, and a
 * `missing` pod has no active `default` worth timing.
 */
function workloadPushAge(pod: CertificateVerdict): number | null {
  if (pod.state === 'missing') return null;
  const secret = pod.secrets.find((candidate) => candidate.name === 'default') ?? pod.secrets.find((candidate) => candidate.name.startsWith('file-cert:'));
  return secret?.pushAgeSeconds ?? null;
}

function formatOptionalDuration(seconds: number | null): string {
  return seconds === null ? NONE : formatDuration(seconds);
}

/** Dump-provided text can hold anything: keep cells on one line and free of terminal controls. */
function cell(text: string): string {
  const clean = cleanText(text);
  return clean === '' ? NONE : clean;
}
