/**
 * One Slack message (Block Kit plus a plain `text` fallback) for a batch of notification items.
 *
 * Layout, worst first: a header naming the clusters; one summary line per cluster; then one
 * section block per (kind of news, cluster, namespace), in this order: restarts that need a
 * person, new problems, worse, sweeps that did not cover the cluster, routine restart outcomes,
 * better, resolved. Inside a block, one bullet per workload with what is wrong, how long, the
 * diagnosis behind the findings and what to do. A context line links the dashboard.
 *
 * Slack limits are enforced here, not hoped for: at most 50 blocks (surplus blocks collapse into
 * "… and N more"), section text at most 3000 characters (surplus workloads become "… and N
 * more workloads"), header text at most 150. Counts are of the pods in the events: the events do
 * not carry a workload's replica count, so the message says "3 pods stale", never "3/5".
 * Pure: no I/O.
 */
import type { PodStateChangedDetail, SweepCompletedDetail } from '../core/events/events.js';
import { PAGE_REASONS, type AgentRestartNotice, type NotificationItem, type RestartNotice } from '../core/notification/notifications.js';
import { formatDuration } from '../core/render/render.js';
import { DEFAULT_TBOT_AGENTS, tbotUpgradeAdvice } from '../core/judgement/agents.js';
import { STATE_SEVERITY, type Finding, type PodAgentRef, type Source, type State, type WorkloadRef } from '../core/model/types.js';
import { cleanText, scrubKeyMaterial } from '../core/model/scrub.js';

/** The namespace shown in agent restart commands (the default; events do not carry the configured one). */
const TBOT_NAMESPACE_HINT = DEFAULT_TBOT_AGENTS.namespace;

export interface MrkdwnText {
  readonly type: 'mrkdwn';
  readonly text: string;
}

export interface PlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji: true;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: PlainText }
  | { readonly type: 'section'; readonly text: MrkdwnText }
  | { readonly type: 'context'; readonly elements: readonly MrkdwnText[] };

/** The webhook payload: `text` is what notifications and screen readers show. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  /** Our own cap for the notification fallback (Slack truncates far later). */
  fallbackText: 1000,
} as const;

/** One line never takes more than this, so a block always holds several workloads. */
const MAX_LINE = 600;
const MAX_PODS_LISTED = 5;
const MAX_SWEEP_ERRORS_LISTED = 3;

export interface RenderOptions {
  /** CloudWatch dashboard linked from the footer. */
  readonly dashboardUrl?: string;
}

type SectionId = 'attention' | 'opened' | 'worsened' | 'sweeps' | 'restarts' | 'improved' | 'resolved';

const SECTIONS: readonly { readonly id: SectionId; readonly title: string }[] = [
  { id: 'attention', title: '🛑 Restarts that need a person' },
  { id: 'opened', title: '🚨 New problems' },
  { id: 'worsened', title: '📈 Worse' },
  { id: 'sweeps', title: '⚠️ Sweeps that did not cover the cluster' },
  { id: 'restarts', title: '🔁 Restarts' },
  { id: 'improved', title: '📉 Better, not yet healthy' },
  { id: 'resolved', title: '✅ Resolved' },
];

/** One bullet: a workload (or a bare pod, or a cluster for sweeps) and its indented details. */
interface Row {
  readonly score: number;
  readonly size: number;
  readonly name: string;
  readonly lines: readonly string[];
}

interface Group {
  readonly section: SectionId;
  readonly cluster: string;
  readonly namespace: string | null;
  readonly rows: Row[];
}

// ---------------------------------------------------------------------------------------------
// Text helpers.

/**
 * Slack mrkdwn control characters in text that comes from the cluster, which is also scrubbed of
 * key material: a name, annotation or stderr line such as `<!channel>` is shown, never acted on.
 */
export function escapeMrkdwn(text: string): string {
  return scrubKeyMaterial(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One line of untrusted text: key material scrubbed, no newlines or control characters, bounded length. */
function oneLine(text: string, max = MAX_LINE): string {
  return shortenText(cleanText(text), max);
}

function shortenText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function bySeverityDesc(a: State, b: State): number {
  return STATE_SEVERITY[b] - STATE_SEVERITY[a];
}

function workloadLabel(workload: WorkloadRef | null, podName: string): string {
  return workload ? `${workload.kind} ${workload.name}` : `Pod ${podName}`;
}

function podList(names: readonly string[]): string {
  const unique = [...new Set(names)].sort();
  const shown = unique.slice(0, MAX_PODS_LISTED).map(escapeMrkdwn).join(', ');
  const more = unique.length - MAX_PODS_LISTED;
  return `pods: ${shown}${more > 0 ? ` +${more} more` : ''}`;
}

const indent = (text: string): string => `      ${text}`;
/** An instruction; commands in it carry cluster names, so it is escaped as a whole. */
const advice = (text: string): string => indent(`→ ${escapeMrkdwn(text)}`);

/** The command that gives a workload's pods new certificates, or null when there is none. */
export function restartCommand(namespace: string, workload: WorkloadRef | null, podNames: readonly string[]): string | null {
  if (workload === null) return podNames.length > 0 ? `kubectl -n ${namespace} delete pod ${[...new Set(podNames)].sort().join(' ')}` : null;
  switch (workload.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
      return `kubectl -n ${namespace} rollout restart ${workload.kind.toLowerCase()}/${workload.name}`;
    case 'Rollout':
      return `kubectl argo rollouts restart ${workload.name} -n ${namespace}`;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Diagnosis: what the findings mean and what to do (docs/contract.md §3 and README "Troubleshooting by finding").

/** Findings whose cause is the node's tbot agent when tbot serves the pod. */
const TBOT_SIDE_FINDINGS: readonly Finding[] = ['sds-push-without-rotation', 'sds-pushes-stopped', 'tbot-outdated'];

export const TBOT_RESEND_FIX = 'tbot 18.6.4 or later (17.x: 17.7.14 or later)';
export const TBOT_RENEWAL_FIX = 'tbot 18.0.1 or later (17.x: 17.5.5 or later)';

function diagnosis(finding: Finding, source: Source): string {
  switch (finding) {
    case 'sds-push-without-rotation':
      return source === 'istio-agent' ? 'the agent re-sends the old certificate' : `${source === 'tbot' ? 'tbot' : 'the issuer'} re-sends the old certificate`;
    case 'sds-pushes-stopped':
      return source === 'tbot' ? 'tbot stopped renewing (no push since the leaf was issued)' : 'no certificate push since the leaf was issued';
    case 'workload-certs-volume':
      return 'a `workload-certs` emptyDir sits beside the SPIFFE socket';
    case 'identity-mismatch':
      return "the leaf has no SPIFFE ID, or one that does not match the pod's namespace and service account";
    case 'bundle-mismatch':
      return "the chain does not verify against the trust bundle of the leaf's trust domain (untrusted, no bundle for that domain, or an intermediate or root outside its validity)";
    case 'not-yet-valid':
      return 'the leaf is not valid yet (notBefore in the future): peers reject it';
    case 'tbot-outdated':
      return "the node's tbot agent runs a release with a rotation bug";
  }
}

function findingAdvice(finding: Finding, source: Source): string {
  switch (finding) {
    case 'sds-push-without-rotation':
      return source === 'istio-agent'
        ? 'Check the istio-proxy logs: the agent keeps serving an old certificate.'
        : `Upgrade to ${TBOT_RESEND_FIX}: older tbot re-sends its cached SVID on every renewal. Until then restart the node's tbot agent, not the app: its Envoys reconnect and get a fresh SVID.`;
    case 'sds-pushes-stopped':
      return source === 'istio-agent'
        ? "Check the istio-proxy logs and the agent's connection to its CA."
        : `Upgrade to ${TBOT_RENEWAL_FIX} and check tbot's logs for renewal errors; restarting the node's tbot agent gives its Envoys a fresh SVID meanwhile.`;
    case 'workload-certs-volume':
      return 'Remove the `workload-certs` volume from the pod template: when it holds certificate files, the agent serves them instead of the socket.';
    case 'identity-mismatch':
      return "Check the workload's SPIFFE registration (tbot workload identity, selectors) for this service account: the leaf needs a `spiffe://` URI SAN with its namespace and service account.";
    case 'bundle-mismatch':
      return "Check the trust bundle served for the leaf's trust domain and the dates of the intermediates and roots (an expired intermediate, a recent CA rotation, a federated domain without a bundle).";
    case 'not-yet-valid':
      return 'Do not restart: a new pod gets a certificate from the same clock. Check time sync on the issuer (tbot, the Teleport auth service, the CA) and on the node.';
    case 'tbot-outdated':
      return `Upgrade tbot to ${TBOT_RESEND_FIX}: older releases stop rotating the SVIDs they serve.`;
  }
}

/**
 * Node-specific advice from the pods' agents: `upgrade tbot on node X (18.5.0 → 18.6.4)` per
 * outdated agent, and which agent pod to restart for a tbot-side diagnosis. Empty when the
 * events carry no agent.
 */
export function agentAdvice(pods: readonly { readonly node: string; readonly agent?: PodAgentRef; readonly findings: readonly Finding[] }[]): string[] {
  const byNode = new Map<string, PodAgentRef>();
  for (const pod of pods) if (pod.agent && !byNode.has(pod.node)) byNode.set(pod.node, pod.agent);
  const lines: string[] = [];
  const nodes = [...byNode.keys()].sort();
  const upgrades = nodes.flatMap((node) => tbotUpgradeAdvice(node, byNode.get(node)!.version) ?? []);
  if (upgrades.length > 0) {
    const shown = upgrades.slice(0, 3).join('; ');
    lines.push(`${shown.charAt(0).toUpperCase()}${shown.slice(1)}${upgrades.length > 3 ? ` and ${upgrades.length - 3} more nodes` : ''}.`);
  }
  const tbotSide = pods.some((p) => p.agent && p.findings.some((f) => f === 'sds-push-without-rotation' || f === 'sds-pushes-stopped'));
  if (tbotSide) {
    const restarts = nodes.slice(0, 3).map((node) => `\`kubectl -n ${TBOT_NAMESPACE_HINT} delete pod ${byNode.get(node)!.pod}\` (node ${node})`);
    lines.push(`Restart the node's tbot agent, not the application: ${restarts.join(', ')}; its DaemonSet recreates it and every Envoy on the node gets a fresh SVID.`);
  }
  return lines;
}

function stateAdvice(state: State, command: string | null): string | null {
  switch (state) {
    case 'expired':
    case 'expiring':
      return command ? `New pods get a new certificate: \`${command}\`` : 'Replace the pods so they get a new certificate.';
    case 'missing':
      return 'Check the SPIFFE CSI socket mount and that tbot serves this workload.';
    case 'unreachable':
      return 'Check that the pods run and that the sampler may exec into istio-proxy.';
    default:
      return null;
  }
}

/** The source most of the pods report (tbot wins a tie: it is the issuer the findings are about). */
function mainSource(sources: readonly Source[]): Source {
  const count = (s: Source) => sources.filter((x) => x === s).length;
  return (['tbot', 'istio-agent', 'unknown'] as const).reduce((best, s) => (count(s) > count(best) ? s : best), 'tbot' as Source);
}

// ---------------------------------------------------------------------------------------------
// Rows.

function stateCounts(states: readonly State[], suffix = ''): string {
  const distinct = [...new Set(states)].sort(bySeverityDesc);
  return distinct.map((state, i) => {
    const n = states.filter((s) => s === state).length;
    return i === 0 ? `${plural(n, 'pod')} ${state}${suffix}` : `${n} ${state}${suffix}`;
  }).join(', ');
}

function leafFacts(pods: readonly PodStateChangedDetail[]): string[] {
  const facts: string[] = [];
  const present = pods.flatMap((p) => (p.change !== 'gone' && p.certificate ? [p] : []));
  if (present.length > 0) {
    const oldest = Math.max(...present.map((p) => p.certificate!.ageSeconds));
    facts.push(`leaf ${formatDuration(oldest)} old`);
    const closest = Math.min(...present.map((p) => p.certificate!.remainingSeconds));
    // A not-yet-valid leaf is judged `expired` but has time left: its fact is its notBefore.
    const futureLeaf = present.find((p) => p.findings.includes('not-yet-valid'));
    if (futureLeaf) facts.push(`not valid before ${futureLeaf.certificate!.notBefore}`);
    const expired = present.filter((p) => p.state === 'expired' && !p.findings.includes('not-yet-valid'));
    if (expired.length > 0) facts.push(`expired ${formatDuration(-Math.min(...expired.map((p) => p.certificate!.remainingSeconds)))} ago`);
    else if (present.some((p) => p.state === 'expiring')) facts.push(`expires in ${formatDuration(closest)}`);
  }
  if (pods.some((p) => p.state === 'missing')) facts.push('no certificate in Envoy');
  const unreachable = pods.find((p) => p.change !== 'gone' && p.state === 'unreachable' && p.error !== undefined);
  if (unreachable && unreachable.change !== 'gone') facts.push(`not sampled: ${escapeMrkdwn(oneLine(unreachable.error ?? '', 200))}`);
  return facts;
}

function changeRow(section: SectionId, pods: readonly PodStateChangedDetail[]): Row {
  const first = pods[0]!;
  const label = `*${escapeMrkdwn(workloadLabel(first.workload, first.name))}*`;
  const names = pods.map((p) => p.name);
  const previous = [...new Set(pods.flatMap((p) => (p.previousState === null ? [] : [p.previousState])))].sort(bySeverityDesc);

  if (section === 'resolved') {
    const resolved = pods.filter((p) => p.change === 'resolved').length;
    const gone = pods.length - resolved;
    const parts = [resolved > 0 ? `${plural(resolved, 'pod')} healthy again` : '', gone > 0 ? (resolved > 0 ? `${gone} gone` : `${plural(gone, 'pod')} gone`) : ''].filter(Boolean);
    const findings = [...new Set(pods.flatMap((p) => p.previousFindings))].sort();
    const was = [...previous, ...findings.map((f) => `\`${f}\``)];
    const worst = Math.max(0, ...previous.map((s) => STATE_SEVERITY[s]));
    const verb = pods.length === 1 ? 'was' : 'were';
    return { score: worst, size: pods.length, name: label, lines: [`• ${label}: ${parts.join(', ')}${was.length > 0 ? ` (${verb} ${was.join(', ')})` : ''}`, indent(podList(names))] };
  }

  const present = pods.filter((p): p is Exclude<PodStateChangedDetail, { change: 'gone' }> => p.change !== 'gone');
  const states = present.map((p) => p.state);
  const findings = [...new Set(present.flatMap((p) => p.findings))].sort();
  const source = mainSource(present.map((p) => p.source));
  const head = [stateCounts(states), ...leafFacts(pods)].join(', ');
  const was = section === 'opened' || previous.length === 0 ? '' : ` (${pods.length === 1 ? 'was' : 'were'} ${previous.join(', ')})`;
  const why = findings.map((f) => `${diagnosis(f, source)} (\`${f}\`)`).join('; ');
  const lines = [`• ${label}: ${oneLine(`${head}${was}${why ? ` · ${why}` : ''}`)}`, indent(podList(names))];

  const command = restartCommand(first.namespace, first.workload, present.map((p) => p.name));
  // A restart does not cure a leaf from the future: no restart advice for those pods' `expired`.
  const adviceStates = present.filter((p) => !(p.state === 'expired' && p.findings.includes('not-yet-valid'))).map((p) => p.state);
  const nodeAdvice = agentAdvice(present);
  const todo = [
    ...nodeAdvice,
    // The node-specific lines say what the generic tbot advice says, more exactly.
    ...findings.filter((f) => nodeAdvice.length === 0 || !TBOT_SIDE_FINDINGS.includes(f)).map((f) => findingAdvice(f, source)),
    ...[...new Set(adviceStates)].sort(bySeverityDesc).flatMap((s) => stateAdvice(s, command) ?? []),
  ];
  if (section !== 'improved') lines.push(...[...new Set(todo)].slice(0, 3).map((t) => advice(oneLine(t))));
  const score = Math.max(...states.map((s) => STATE_SEVERITY[s]));
  return { score, size: pods.length, name: label, lines };
}

const REASON_LABEL: Readonly<Record<string, string>> = {
  'restart-did-not-fix': 'the last restart did not fix it',
  breaker: 'breaker open',
  'on-delete': 'OnDelete update strategy',
  budget: 'hourly restart budget spent',
  paused: 'rollout paused',
  rolling: 'already rolling out',
  'bare-pod': 'no controller',
  'unsupported-workload': 'no rollout restart for this kind',
  'opted-out': 'policy says alert only',
  'api-error': 'Kubernetes API error',
  'guard-error': 'restart guard store error',
};

function restartAdvice(notice: RestartNotice, command: string | null): string | null {
  const podNames = notice.pods.map((p) => p.name);
  if (notice.outcome === 'failed') return "Check the remediator's Kubernetes access (group mesh-cert-watch:remediator) and its logs; restart it yourself meanwhile.";
  if (notice.outcome !== 'skipped') return null;
  switch (notice.reason) {
    case 'restart-did-not-fix':
      return `Restarting again will not help: pods created after the restart still serve a certificate from before it. Check the issuer on their node (tbot: upgrade to ${TBOT_RESEND_FIX}).`;
    case 'breaker':
      return 'Many pods are unhealthy at once: check the issuer (tbot, SPIRE, the CA) before restarting anything.';
    case 'on-delete':
      return `Delete the pods yourself: \`kubectl -n ${notice.namespace} delete pod ${[...new Set(podNames)].sort().join(' ')}\``;
    case 'budget':
    case 'paused':
    case 'opted-out':
    case 'unsupported-workload':
    case 'bare-pod':
      return command ? `Restart it yourself if the certificate is about to fail: \`${command}\`` : null;
    case 'rolling':
      return 'The rollout in progress replaces the pods: check that it completes.';
    default:
      return null;
  }
}

function restartRank(notice: RestartNotice): number {
  if (notice.outcome === 'failed' || PAGE_REASONS.includes(notice.reason)) return 3;
  return notice.outcome === 'restarted' ? 2 : 1;
}

function restartRow(notices: readonly RestartNotice[]): Row {
  const first = notices[0]!;
  const label = `*${escapeMrkdwn(workloadLabel(first.workload, first.pods[0]?.name ?? '?'))}*`;
  const pods = notices.flatMap((n) => n.pods);
  const states = [...new Set(pods.map((p) => p.state))].sort(bySeverityDesc);
  const because = pods.length > 0 ? `${plural(new Set(pods.map((p) => p.name)).size, 'pod')} ${states.join(', ')}` : '';
  let head: string;
  switch (first.outcome) {
    case 'restarted':
      head = `restarted (${because})`;
      break;
    case 'dry-run':
      head = `would be restarted, dry-run: nothing changed (${because})`;
      break;
    case 'failed':
      head = `restart failed (${REASON_LABEL[first.reason] ?? first.reason})`;
      break;
    default:
      head = `not restarted: ${REASON_LABEL[first.reason] ?? first.reason} (${because})`;
  }
  const message = first.outcome === 'restarted' || first.outcome === 'dry-run' || !first.message ? '' : ` · ${escapeMrkdwn(first.message)}`;
  const lines = [`• ${label}: ${oneLine(`${head}${message}`)}`, indent(podList(pods.map((p) => p.name)))];
  const command = restartCommand(first.namespace, first.workload, []);
  const todo = restartAdvice(first, command);
  if (todo) lines.push(advice(oneLine(todo)));
  const score = restartRank(first) * 10 + Math.max(0, ...pods.map((p) => STATE_SEVERITY[p.state]));
  return { score, size: pods.length, name: label, lines };
}

const AGENT_REASON_LABEL: Readonly<Record<string, string>> = {
  breaker: 'breaker open',
  budget: 'hourly restart budget spent',
  rolling: 'the tbot DaemonSet is rolling out',
  'agent-not-ready': 'a tbot agent is not Ready yet',
  'agent-busy': 'another tbot agent is being restarted',
  'api-error': 'Kubernetes API error',
  'guard-error': 'restart guard store error',
};

/** One node's tbot agent: restarted (or not) instead of the workloads of its pods. */
function agentRestartRow(notices: readonly AgentRestartNotice[]): Row {
  const first = notices[0]!;
  const label = `*tbot agent on node ${escapeMrkdwn(first.node)}*`;
  const pods = notices.flatMap((n) => n.pods);
  const names = [...new Set(pods.map((p) => `${p.namespace}/${p.name}`))];
  const states = [...new Set(pods.map((p) => p.state))].sort(bySeverityDesc);
  const because = `${plural(names.length, 'pod')} ${states.join(', ')}`;
  const agent = first.agentPod ? escapeMrkdwn(first.agentPod) : 'its agent pod';
  const version = first.version ? ` (tbot ${escapeMrkdwn(first.version)})` : '';
  let head: string;
  switch (first.outcome) {
    case 'restarted':
      head = `restarted ${agent}${version}, no application pod restarted: every Envoy on the node gets a fresh SVID (${because})`;
      break;
    case 'dry-run':
      head = `would restart ${agent}${version}, dry-run: nothing changed (${because})`;
      break;
    case 'failed':
      head = `agent restart failed (${AGENT_REASON_LABEL[first.reason] ?? first.reason})`;
      break;
    default:
      head = `${agent} not restarted: ${AGENT_REASON_LABEL[first.reason] ?? first.reason} (${because})`;
  }
  const message = first.outcome === 'restarted' || first.outcome === 'dry-run' || !first.message ? '' : ` · ${escapeMrkdwn(first.message)}`;
  const lines = [`• ${label}: ${oneLine(`${head}${message}`)}`, indent(podList(names))];
  if (first.upgradeAdvice) {
    const upgrade = `${first.upgradeAdvice.charAt(0).toUpperCase()}${first.upgradeAdvice.slice(1)}`;
    lines.push(advice(oneLine(`${upgrade}: a restart buys one certificate lifetime, the upgrade is the fix.`)));
  }
  if (first.outcome === 'failed') lines.push(advice("Check the remediator's Role in the tbot namespace (mesh-cert-watch rbac) and its logs."));
  const rank = first.outcome === 'failed' || PAGE_REASONS.includes(first.reason) ? 3 : first.outcome === 'restarted' ? 2 : 1;
  return { score: rank * 10 + Math.max(0, ...pods.map((p) => STATE_SEVERITY[p.state])), size: names.length, name: label, lines };
}

function sweepRow(sweep: SweepCompletedDetail): Row {
  const lines: string[] = [];
  if (sweep.failed) {
    const first = sweep.errors[0]?.error ?? 'no error recorded';
    lines.push(`• ${oneLine(`sweep ${escapeMrkdwn(sweep.sweepId)} failed: ${escapeMrkdwn(first)}`)}`);
    lines.push(advice("The watcher is blind to this cluster: check the sampler's EKS access entry and that the API endpoint is reachable from its subnets."));
  } else {
    const errors = sweep.errorsTotal > 0 ? `, ${plural(sweep.errorsTotal, 'error')}` : '';
    lines.push(`• ${oneLine(`sweep ${escapeMrkdwn(sweep.sweepId)} partial: the deadline stopped it after ${plural(sweep.summary.sampled, 'pod')} sampled${errors}`)}`);
    lines.push(advice('Raise functions.sampler.timeoutSeconds or the cluster concurrency: unsampled pods are not watched.'));
  }
  const listed = sweep.errors.slice(sweep.failed ? 1 : 0, (sweep.failed ? 1 : 0) + MAX_SWEEP_ERRORS_LISTED);
  for (const e of listed) {
    const where = [e.namespace, e.name].filter((x): x is string => typeof x === 'string').join('/');
    lines.push(indent(oneLine(`${where ? `${escapeMrkdwn(where)}: ` : ''}${escapeMrkdwn(e.error)}`, 300)));
  }
  return { score: sweep.failed ? 2 : 1, size: 1, name: sweep.cluster, lines };
}

// ---------------------------------------------------------------------------------------------
// Grouping: section → cluster → namespace → workload, worst first.

function sectionOfChange(detail: PodStateChangedDetail): SectionId {
  switch (detail.change) {
    case 'opened':
      return 'opened';
    case 'worsened':
      return 'worsened';
    case 'improved':
      return 'improved';
    default:
      return 'resolved';
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

const compareRows = (a: Row, b: Row): number => b.score - a.score || b.size - a.size || a.name.localeCompare(b.name);

function buildGroups(items: readonly NotificationItem[]): Group[] {
  const rows: { section: SectionId; cluster: string; namespace: string | null; row: Row }[] = [];

  const changes = items.flatMap((i) => (i.kind === 'change' ? [i.detail] : []));
  const changeKey = (d: PodStateChangedDetail) =>
    [sectionOfChange(d), d.cluster, d.namespace, d.workload ? `${d.workload.kind}/${d.workload.name}` : `pod/${d.name}`].join('\u0000');
  for (const pods of groupBy(changes, changeKey).values()) {
    const section = sectionOfChange(pods[0]!);
    rows.push({ section, cluster: pods[0]!.cluster, namespace: pods[0]!.namespace, row: changeRow(section, pods) });
  }

  const restarts = items.flatMap((i) => (i.kind === 'restart' ? [i.detail] : []));
  const restartKey = (d: RestartNotice) => [d.cluster, d.namespace, d.workload.kind, d.workload.name, d.outcome, d.reason].join('\u0000');
  for (const notices of groupBy(restarts, restartKey).values()) {
    const first = notices[0]!;
    rows.push({ section: restartRank(first) === 3 ? 'attention' : 'restarts', cluster: first.cluster, namespace: first.namespace, row: restartRow(notices) });
  }

  const agentRestarts = items.flatMap((i) => (i.kind === 'agent-restart' ? [i.detail] : []));
  const agentKey = (d: AgentRestartNotice) => [d.cluster, d.namespace, d.node, d.outcome, d.reason].join('\u0000');
  for (const notices of groupBy(agentRestarts, agentKey).values()) {
    const first = notices[0]!;
    const page = first.outcome === 'failed' || PAGE_REASONS.includes(first.reason);
    rows.push({ section: page ? 'attention' : 'restarts', cluster: first.cluster, namespace: first.namespace, row: agentRestartRow(notices) });
  }

  // One row per cluster: the latest sweep speaks for it.
  const sweeps = items.flatMap((i) => (i.kind === 'sweep' ? [i.detail] : []));
  for (const list of groupBy(sweeps, (s) => s.cluster).values()) {
    const latest = [...list].sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0]!;
    rows.push({ section: 'sweeps', cluster: latest.cluster, namespace: null, row: sweepRow(latest) });
  }

  const groups: Group[] = [];
  for (const { id } of SECTIONS) {
    const inSection = rows.filter((r) => r.section === id);
    const byNamespace = [...groupBy(inSection, (r) => `${r.cluster}\u0000${r.namespace ?? ''}`).values()].map((list) => ({
      cluster: list[0]!.cluster,
      namespace: list[0]!.namespace,
      rows: list.map((r) => r.row).sort(compareRows),
    }));
    const worst = (g: { rows: Row[] }) => g.rows[0]!;
    const clusterWorst = new Map<string, Row>();
    for (const g of byNamespace) {
      const current = clusterWorst.get(g.cluster);
      if (!current || compareRows(worst(g), current) < 0) clusterWorst.set(g.cluster, worst(g));
    }
    byNamespace.sort(
      (a, b) =>
        compareRows(clusterWorst.get(a.cluster)!, clusterWorst.get(b.cluster)!) ||
        a.cluster.localeCompare(b.cluster) ||
        compareRows(worst(a), worst(b)) ||
        (a.namespace ?? '').localeCompare(b.namespace ?? ''),
    );
    groups.push(...byNamespace.map((g) => ({ section: id, ...g })));
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// Blocks within the limits.

function groupTitle(group: Group): string {
  const title = SECTIONS.find((s) => s.id === group.section)!.title;
  const where = group.namespace === null ? group.cluster : `${group.cluster} / ${group.namespace}`;
  return `*${title} · ${escapeMrkdwn(oneLine(where, 300))}*`;
}

/** Title plus as many rows as fit in one section block; the rest become "… and N more workloads". */
function groupText(group: Group): string {
  const title = groupTitle(group);
  const unit = group.section === 'sweeps' ? 'clusters' : 'workloads';
  const reserve = `\n… and ${group.rows.length} more ${unit}`.length;
  let text = title;
  for (let i = 0; i < group.rows.length; i++) {
    const rowText = `\n${group.rows[i]!.lines.join('\n')}`;
    const last = i === group.rows.length - 1;
    if (text.length + rowText.length + (last ? 0 : reserve) > SLACK_LIMITS.sectionText) {
      return `${text}\n… and ${group.rows.length - i} more ${unit}`;
    }
    text += rowText;
  }
  return text;
}

function clusterSummary(cluster: string, items: readonly NotificationItem[]): string {
  const mine = items.filter((i) => i.detail.cluster === cluster);
  const pods = (change: PodStateChangedDetail['change']) =>
    new Set(mine.flatMap((i) => (i.kind === 'change' && i.detail.change === change ? [i.detail.uid] : []))).size;
  const workloads = (test: (d: RestartNotice) => boolean) =>
    new Set(mine.flatMap((i) => (i.kind === 'restart' && test(i.detail) ? [`${i.detail.namespace}/${i.detail.workload.kind}/${i.detail.workload.name}`] : []))).size;
  const agents = (test: (d: AgentRestartNotice) => boolean) =>
    new Set(mine.flatMap((i) => (i.kind === 'agent-restart' && test(i.detail) ? [i.detail.node] : []))).size;
  const counts: readonly (readonly [number, (n: number) => string])[] = [
    [workloads((d) => restartRank(d) === 3), (n) => `${plural(n, 'workload')} ${n === 1 ? 'needs' : 'need'} a person`],
    [pods('opened'), (n) => `${plural(n, 'pod')} with new problems`],
    [pods('worsened'), (n) => `${plural(n, 'pod')} worse`],
    [agents((d) => d.outcome === 'restarted'), (n) => `${plural(n, 'tbot agent')} restarted`],
    [agents((d) => d.outcome === 'dry-run'), (n) => `${plural(n, 'tbot agent')} to restart (dry-run)`],
    [workloads((d) => d.outcome === 'restarted'), (n) => `${plural(n, 'workload')} restarted`],
    [workloads((d) => d.outcome === 'dry-run'), (n) => `${plural(n, 'workload')} to restart (dry-run)`],
    [workloads((d) => d.outcome === 'skipped' && restartRank(d) < 3), (n) => `${plural(n, 'workload')} not restarted`],
    [pods('improved'), (n) => `${plural(n, 'pod')} better`],
    [pods('resolved'), (n) => `${plural(n, 'pod')} resolved`],
    [pods('gone'), (n) => `${plural(n, 'pod')} gone`],
  ];
  const parts = counts.filter(([n]) => n > 0).map(([n, phrase]) => phrase(n));
  const sweep = mine.find((i): i is Extract<NotificationItem, { kind: 'sweep' }> => i.kind === 'sweep');
  if (sweep) parts.push(sweep.detail.failed ? 'sweep failed' : 'sweep partial');
  return `*${escapeMrkdwn(cluster)}*: ${parts.join(', ')}`;
}

function headerEmoji(groups: readonly Group[], items: readonly NotificationItem[]): string {
  const sections = new Set(groups.map((g) => g.section));
  if (sections.has('attention') || sections.has('opened') || sections.has('worsened')) return '🚨';
  if (items.some((i) => i.kind === 'sweep' && i.detail.failed)) return '🚨';
  if (sections.has('sweeps')) return '⚠️';
  if (sections.has('restarts')) return '🔁';
  return '✅';
}

function instantOf(item: NotificationItem): string {
  switch (item.kind) {
    case 'change':
      return item.detail.observedAt;
    case 'restart':
    case 'agent-restart':
      return item.detail.at;
    case 'sweep':
      return item.detail.finishedAt;
  }
}

function sweepIdOf(item: NotificationItem): string {
  return item.kind === 'restart' || item.kind === 'agent-restart' ? item.detail.triggeredBy : item.detail.sweepId;
}

function footer(items: readonly NotificationItem[], options: RenderOptions): string {
  const parts: string[] = [];
  if (options.dashboardUrl) parts.push(`<${options.dashboardUrl.replace(/[|>]/g, encodeURIComponent)}|📊 CloudWatch dashboard>`);
  const sweeps = [...new Set(items.map(sweepIdOf))];
  parts.push(sweeps.length === 1 ? `sweep ${escapeMrkdwn(oneLine(sweeps[0]!, 100))}` : `${sweeps.length} sweeps`);
  const latest = items.map(instantOf).sort().at(-1)!;
  parts.push(`${new Date(Date.parse(latest)).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  return parts.join(' · ');
}

const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/**
 * The message for `items` (all of them: filter first), or null when there is nothing to say.
 */
export function renderSlackMessage(items: readonly NotificationItem[], options: RenderOptions = {}): SlackMessage | null {
  if (items.length === 0) return null;
  const groups = buildGroups(items);
  const clusterOrder = [...new Set(groups.map((g) => g.cluster))];
  for (const item of items) if (!clusterOrder.includes(item.detail.cluster)) clusterOrder.push(item.detail.cluster);

  const emoji = headerEmoji(groups, items);
  const header = shortenText(`${emoji} mesh-cert-watch · ${oneLine(clusterOrder.join(', '), 300)}`, SLACK_LIMITS.headerText);
  const summaries = clusterOrder.map((c) => clusterSummary(c, items));
  const summaryText = summaries.join('\n').length <= SLACK_LIMITS.sectionText
    ? summaries.join('\n')
    : shortenText(summaries.join('\n'), SLACK_LIMITS.sectionText - 40) + `\n… and more clusters`;

  // header + summary + footer, the rest for groups (one kept for "… and N more" if needed).
  const room = SLACK_LIMITS.blocks - 3;
  const shown = groups.length <= room ? groups : groups.slice(0, room - 1);
  const hidden = groups.slice(shown.length);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    section(summaryText),
    ...shown.map((g) => section(groupText(g))),
  ];
  if (hidden.length > 0) {
    const rows = hidden.reduce((n, g) => n + g.rows.length, 0);
    blocks.push(section(`… and ${plural(hidden.length, 'more namespace')} with ${plural(rows, 'workload')} not shown: see the dashboard.`));
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: footer(items, options) }] });

  // The notification: what happened where, and the worst item in one line.
  const worst = groups[0];
  const worstLine = worst ? ` · ${worst.namespace === null ? '' : `${escapeMrkdwn(worst.namespace)}: `}${worst.rows[0]!.lines[0]!.replace(/^• /, '')}` : '';
  // Slack reads the fallback as mrkdwn too (notifications, clients without blocks): it keeps the
  // escaping of the blocks; only our own bold markers go.
  const text = shortenText(mrkdwnToFallback(`${emoji} mesh-cert-watch: ${summaries.join('; ')}${worstLine}`), SLACK_LIMITS.fallbackText);
  return { text, blocks };
}

/** The fallback `text`: bold markers removed, entities kept (`&lt;!channel&gt;` stays inert). */
export function mrkdwnToFallback(text: string): string {
  return text.replace(/\*([^*\n]+)\*/g, '$1');
}

/**
 * mrkdwn → plain text for a terminal (`slack-preview`), never sent to Slack: links as
 * "label (url)", bold markers and entities removed.
 */
export function mrkdwnToPlain(text: string): string {
  return text
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/\*([^*\n]+)\*/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The whole message as plain text (what `slack-preview` prints after the Block Kit JSON). */
export function renderPlainText(message: SlackMessage): string {
  const parts = message.blocks.map((block) => {
    switch (block.type) {
      case 'header':
        return block.text.text;
      case 'section':
        return mrkdwnToPlain(block.text.text);
      case 'context':
        return block.elements.map((e) => mrkdwnToPlain(e.text)).join(' ');
    }
  });
  return `${parts.join('\n\n')}\n`;
}
