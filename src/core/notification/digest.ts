/**
 * The channel-neutral digest of a batch of notification items: what every channel says, before
 * any channel formats it. Slack renders it as Block Kit (src/slack/slack-message.ts), PagerDuty as
 * one Events API v2 event per workload (src/pagerduty/pagerduty-events.ts).
 *
 * Grouping: kind of news (section) → cluster → namespace → workload, worst first. Per workload:
 * what is wrong, how long, the diagnosis behind the findings and what to do (docs/contract.md §3
 * and README "Troubleshooting by finding"). Advice about a node's tbot agent (upgrade it, restart
 * it) is gathered per node (`nodes`), so a node that serves ten workloads is advised once; the
 * workloads point to it.
 *
 * Text is plain: untrusted text from the cluster is scrubbed of key material and control
 * characters and bounded; code (commands, finding names) is in backticks. A channel escapes what
 * its format needs (Slack: `&`, `<`, `>`) and adds its own emphasis. Pure: no I/O.
 */
import type { PodStateChangedDetail, SweepCompletedDetail } from '../events/events.js';
import { PAGE_REASONS, type AgentRestartNotice, type NotificationItem, type RestartNotice } from './notifications.js';
import { formatDuration } from '../render/render.js';
import { DEFAULT_TBOT_AGENTS, tbotUpgradeAdvice } from '../judgement/agents.js';
import { STATE_SEVERITY, type Finding, type PodAgentRef, type Source, type State, type WorkloadRef } from '../model/types.js';
import { cleanText } from '../model/scrub.js';

/** The namespace shown in agent restart commands (the default; events do not carry the configured one). */
const TBOT_NAMESPACE_HINT = DEFAULT_TBOT_AGENTS.namespace;

/** One line never takes more than this, so a channel's block always holds several workloads. */
export const MAX_LINE = 600;
const MAX_PODS_LISTED = 5;
const MAX_SWEEP_ERRORS_LISTED = 3;
const MAX_ADVICE = 3;

export type DigestSectionId = 'attention' | 'opened' | 'worsened' | 'nodes' | 'sweeps' | 'restarts' | 'improved' | 'resolved';

/** Sections in the order a reader needs them: what needs a person, new and worse problems, then the rest. */
export const DIGEST_SECTIONS: readonly { readonly id: DigestSectionId; readonly title: string }[] = [
  { id: 'attention', title: 'Restarts that need a person' },
  { id: 'opened', title: 'New problems' },
  { id: 'worsened', title: 'Worse' },
  { id: 'nodes', title: 'tbot agents to fix' },
  { id: 'sweeps', title: 'Sweeps that did not cover the cluster' },
  { id: 'restarts', title: 'Restarts' },
  { id: 'improved', title: 'Better, not yet healthy' },
  { id: 'resolved', title: 'Resolved' },
];

/** An indented line under an entry: a fact (pods, errors) or an instruction. */
export interface DigestLine {
  readonly kind: 'fact' | 'advice';
  readonly text: string;
}

/** One bullet: a workload (or bare pod, agent, node, or a cluster's sweep) and its lines. */
export interface DigestEntry {
  /** What the bullet is about (`Deployment carts`, `tbot agent on node X`); null for sweeps. */
  readonly subject: string | null;
  /** What happened, one line. */
  readonly summary: string;
  readonly lines: readonly DigestLine[];
  /** Ordering: higher is worse. */
  readonly score: number;
  /** Ordering within a score: pods (or workloads) concerned. */
  readonly size: number;
}

export interface DigestGroup {
  readonly section: DigestSectionId;
  readonly cluster: string;
  /** null for cluster-wide groups (sweeps, nodes). */
  readonly namespace: string | null;
  readonly entries: readonly DigestEntry[];
}

/** One pod of a workload as this batch last saw it. */
export interface DigestPod {
  readonly uid: string;
  readonly name: string;
  /** null: the pod is gone. */
  readonly state: State | null;
  readonly previousState: State | null;
}

/**
 * The state of one workload (or bare pod) in this batch's state changes: what a channel that
 * opens and closes incidents per workload (PagerDuty) needs.
 */
export interface WorkloadStatus {
  readonly cluster: string;
  readonly namespace: string;
  /** null for a pod without controller (then `subject` names the pod). */
  readonly workload: WorkloadRef | null;
  /** `Deployment carts`, or `Pod carts-1` for a bare pod. */
  readonly subject: string;
  /** Stable per cluster, namespace and workload (or bare pod). */
  readonly key: string;
  readonly pods: readonly DigestPod[];
  /** The worst state of the pods still present, null when every pod is gone. */
  readonly worstState: State | null;
  readonly findings: readonly Finding[];
  /** The headline (what is wrong, how long, why), as the digest entry's summary. */
  readonly summary: string;
  readonly diagnosis: readonly string[];
  /** What to do, node advice included (a PagerDuty event stands alone). */
  readonly advice: readonly string[];
  readonly nodes: readonly string[];
  /** Latest observation in the batch. */
  readonly observedAt: string;
}

/** One node's tbot agent and what to do about it, once however many workloads it serves. */
export interface NodeAdvice {
  readonly cluster: string;
  readonly node: string;
  readonly agentPod: string;
  readonly version: string | null;
  /** Workload subjects (`shop/Deployment carts`) served by the agent in this batch. */
  readonly workloads: readonly string[];
  readonly advice: readonly string[];
}

export type DigestTone = 'alert' | 'warning' | 'restarts' | 'resolved';

export interface ClusterSummary {
  readonly cluster: string;
  /** `2 pods with new problems`, `1 tbot agent restarted`, ... worst first. */
  readonly parts: readonly string[];
}

export interface Digest {
  /** Worst first. */
  readonly clusters: readonly string[];
  readonly tone: DigestTone;
  readonly summaries: readonly ClusterSummary[];
  readonly groups: readonly DigestGroup[];
  readonly nodes: readonly NodeAdvice[];
  readonly workloads: readonly WorkloadStatus[];
  readonly sweepIds: readonly string[];
  /** Latest instant of any item (RFC 3339). */
  readonly latestAt: string;
}

// ---------------------------------------------------------------------------------------------
// Text helpers.

export function shortenText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** One line of untrusted text: key material scrubbed, no newlines or control characters, bounded length. */
export function oneLine(text: string, max = MAX_LINE): string {
  return shortenText(cleanText(text), max);
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function bySeverityDesc(a: State, b: State): number {
  return STATE_SEVERITY[b] - STATE_SEVERITY[a];
}

function workloadLabel(workload: WorkloadRef | null, podName: string): string {
  return workload ? `${workload.kind} ${workload.name}` : `Pod ${podName}`;
}

function podList(names: readonly string[]): string {
  const unique = [...new Set(names)].sort();
  const shown = unique.slice(0, MAX_PODS_LISTED).join(', ');
  const more = unique.length - MAX_PODS_LISTED;
  return `pods: ${shown}${more > 0 ? ` +${more} more` : ''}`;
}

const fact = (text: string): DigestLine => ({ kind: 'fact', text });
const advise = (text: string): DigestLine => ({ kind: 'advice', text: oneLine(text) });

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

/** Stable key of a workload (or bare pod): `cluster/namespace/Kind/name`. */
export function workloadKey(cluster: string, namespace: string, workload: WorkloadRef | null, podName: string): string {
  return workload ? `${cluster}/${namespace}/${workload.kind}/${workload.name}` : `${cluster}/${namespace}/Pod/${podName}`;
}

// ---------------------------------------------------------------------------------------------
// Diagnosis: what the findings mean and what to do (docs/contract.md §3).

/** Findings whose cause is the node's tbot agent when tbot serves the pod. */
const TBOT_SIDE_FINDINGS: readonly Finding[] = ['sds-push-without-rotation', 'sds-pushes-stopped', 'tbot-outdated'];

export const TBOT_RESEND_FIX = 'tbot 18.6.4 or later (17.x: 17.7.14 or later)';
export const TBOT_RENEWAL_FIX = 'tbot 18.0.1 or later (17.x: 17.5.5 or later)';

export function diagnosis(finding: Finding, source: Source): string {
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

export function findingAdvice(finding: Finding, source: Source): string {
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

type PresentPod = Exclude<PodStateChangedDetail, { change: 'gone' }>;

/** A tbot-side diagnosis that a restart of the node's agent cures for now. */
const isTbotSide = (pod: { readonly agent?: PodAgentRef; readonly findings: readonly Finding[] }): boolean =>
  pod.agent !== undefined && pod.findings.some((f) => f === 'sds-push-without-rotation' || f === 'sds-pushes-stopped');

/**
 * Node-specific advice for one node's agent: `Upgrade tbot on node X (18.5.0 → 18.6.4).` when the
 * version is outdated, and which agent pod to restart when a pod it serves has a tbot-side
 * diagnosis. Empty when there is nothing to do on the node.
 */
export function nodeAgentAdvice(node: string, agent: PodAgentRef, tbotSide: boolean): string[] {
  const lines: string[] = [];
  const upgrade = tbotUpgradeAdvice(node, agent.version);
  if (upgrade !== null) lines.push(`${upgrade.charAt(0).toUpperCase()}${upgrade.slice(1)}.`);
  if (tbotSide) {
    lines.push(
      `Restart the node's tbot agent, not the application: \`kubectl -n ${TBOT_NAMESPACE_HINT} delete pod ${agent.pod}\` (node ${node}); its DaemonSet recreates it and every Envoy on the node gets a fresh SVID.`,
    );
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
// Entries.

function stateCounts(states: readonly State[], suffix = ''): string {
  const distinct = [...new Set(states)].sort(bySeverityDesc);
  return distinct
    .map((state, i) => {
      const n = states.filter((s) => s === state).length;
      return i === 0 ? `${plural(n, 'pod')} ${state}${suffix}` : `${n} ${state}${suffix}`;
    })
    .join(', ');
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
  if (unreachable && unreachable.change !== 'gone') facts.push(`not sampled: ${oneLine(unreachable.error ?? '', 200)}`);
  return facts;
}

/** Collects node advice across workloads: one entry per cluster and node. */
class NodeBook {
  private readonly nodes = new Map<string, { cluster: string; node: string; agent: PodAgentRef; tbotSide: boolean; workloads: Set<string> }>();

  /** Records the agents of `pods`; returns the nodes that have advice for them. */
  add(cluster: string, workload: string, pods: readonly PresentPod[]): string[] {
    const touched: string[] = [];
    for (const pod of pods) {
      if (!pod.agent) continue;
      const key = `${cluster}\u0000${pod.node}`;
      const entry = this.nodes.get(key) ?? { cluster, node: pod.node, agent: pod.agent, tbotSide: false, workloads: new Set<string>() };
      entry.tbotSide ||= isTbotSide(pod);
      entry.workloads.add(workload);
      this.nodes.set(key, entry);
      if (!touched.includes(pod.node)) touched.push(pod.node);
    }
    return touched.sort().filter((node) => this.adviceFor(cluster, node).length > 0);
  }

  adviceFor(cluster: string, node: string): string[] {
    const entry = this.nodes.get(`${cluster}\u0000${node}`);
    return entry ? nodeAgentAdvice(entry.node, entry.agent, entry.tbotSide) : [];
  }

  list(): NodeAdvice[] {
    return [...this.nodes.values()]
      .map((e) => ({ cluster: e.cluster, node: e.node, agentPod: e.agent.pod, version: e.agent.version, workloads: [...e.workloads].sort(), advice: nodeAgentAdvice(e.node, e.agent, e.tbotSide) }))
      .filter((n) => n.advice.length > 0)
      .sort((a, b) => a.cluster.localeCompare(b.cluster) || b.workloads.length - a.workloads.length || a.node.localeCompare(b.node));
  }
}

interface ChangeAnalysis {
  readonly entry: DigestEntry;
  readonly status: WorkloadStatus;
}

function nodePointer(nodes: readonly string[]): string {
  const shown = nodes.slice(0, 3).join(', ');
  const more = nodes.length > 3 ? ` and ${nodes.length - 3} more` : '';
  return `Fix the tbot agent on node${nodes.length === 1 ? '' : 's'} ${shown}${more}, not the application (see the tbot agents).`;
}

function analyseChange(section: DigestSectionId, pods: readonly PodStateChangedDetail[], book: NodeBook): ChangeAnalysis {
  const first = pods[0]!;
  const subject = workloadLabel(first.workload, first.name);
  const names = pods.map((p) => p.name);
  const previous = [...new Set(pods.flatMap((p) => (p.previousState === null ? [] : [p.previousState])))].sort(bySeverityDesc);
  const digestPods: DigestPod[] = pods.map((p) => ({ uid: p.uid, name: p.name, state: p.change === 'gone' ? null : p.state, previousState: p.previousState }));
  const observedAt = pods.map((p) => p.observedAt).sort().at(-1)!;
  const base = {
    cluster: first.cluster,
    namespace: first.namespace,
    workload: first.workload,
    subject,
    key: workloadKey(first.cluster, first.namespace, first.workload, first.name),
    pods: digestPods,
    observedAt,
  };

  if (section === 'resolved') {
    const resolved = pods.filter((p) => p.change === 'resolved').length;
    const gone = pods.length - resolved;
    const parts = [resolved > 0 ? `${plural(resolved, 'pod')} healthy again` : '', gone > 0 ? (resolved > 0 ? `${gone} gone` : `${plural(gone, 'pod')} gone`) : ''].filter(Boolean);
    const findings = [...new Set(pods.flatMap((p) => p.previousFindings))].sort();
    const was = [...previous, ...findings.map((f) => `\`${f}\``)];
    const worst = Math.max(0, ...previous.map((s) => STATE_SEVERITY[s]));
    const verb = pods.length === 1 ? 'was' : 'were';
    const summary = `${parts.join(', ')}${was.length > 0 ? ` (${verb} ${was.join(', ')})` : ''}`;
    const present = pods.filter((p): p is PresentPod => p.change !== 'gone');
    return {
      entry: { subject, summary, lines: [fact(podList(names))], score: worst, size: pods.length },
      status: { ...base, worstState: present.length > 0 ? present.map((p) => p.state).sort(bySeverityDesc)[0]! : null, findings: [], summary, diagnosis: [], advice: [], nodes: [] },
    };
  }

  const present = pods.filter((p): p is PresentPod => p.change !== 'gone');
  const states = present.map((p) => p.state);
  const findings = [...new Set(present.flatMap((p) => p.findings))].sort();
  const source = mainSource(present.map((p) => p.source));
  const head = [stateCounts(states), ...leafFacts(pods)].join(', ');
  const was = section === 'opened' || previous.length === 0 ? '' : ` (${pods.length === 1 ? 'was' : 'were'} ${previous.join(', ')})`;
  const reasons = findings.map((f) => `${diagnosis(f, source)} (\`${f}\`)`);
  const why = reasons.join('; ');
  const summary = oneLine(`${head}${was}${why ? ` · ${why}` : ''}`);

  const command = restartCommand(first.namespace, first.workload, present.map((p) => p.name));
  // A restart does not cure a leaf from the future: no restart advice for those pods' `expired`.
  const adviceStates = present.filter((p) => !(p.state === 'expired' && p.findings.includes('not-yet-valid'))).map((p) => p.state);
  const advised = section !== 'improved';
  // Node advice is given once per node (the `nodes` section); the workload points to it.
  const nodes = advised ? book.add(first.cluster, `${first.namespace}/${subject}`, present) : [];
  const generic = [
    // The node-specific advice says what the generic tbot advice says, more exactly.
    ...findings.filter((f) => nodes.length === 0 || !TBOT_SIDE_FINDINGS.includes(f)).map((f) => findingAdvice(f, source)),
    ...[...new Set(adviceStates)].sort(bySeverityDesc).flatMap((s) => stateAdvice(s, command) ?? []),
  ];
  const todo = [...new Set([...(nodes.length > 0 ? [nodePointer(nodes)] : []), ...generic])].slice(0, MAX_ADVICE);
  const lines = [fact(podList(names)), ...(advised ? todo.map(advise) : [])];
  const score = Math.max(...states.map((s) => STATE_SEVERITY[s]));
  const standalone = [...new Set([...nodes.flatMap((node) => book.adviceFor(first.cluster, node)), ...generic])].map((t) => oneLine(t));
  return {
    entry: { subject, summary, lines, score, size: pods.length },
    status: {
      ...base,
      worstState: states.length > 0 ? [...states].sort(bySeverityDesc)[0]! : null,
      findings,
      summary,
      diagnosis: reasons,
      advice: advised ? standalone : [],
      nodes,
    },
  };
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

export function restartRank(notice: Pick<RestartNotice, 'outcome' | 'reason'>): number {
  if (notice.outcome === 'failed' || PAGE_REASONS.includes(notice.reason)) return 3;
  return notice.outcome === 'restarted' ? 2 : 1;
}

function restartEntry(notices: readonly RestartNotice[]): DigestEntry {
  const first = notices[0]!;
  const subject = workloadLabel(first.workload, first.pods[0]?.name ?? '?');
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
  const message = first.outcome === 'restarted' || first.outcome === 'dry-run' || !first.message ? '' : ` · ${first.message}`;
  const lines = [fact(podList(pods.map((p) => p.name)))];
  const todo = restartAdvice(first, restartCommand(first.namespace, first.workload, []));
  if (todo) lines.push(advise(todo));
  const score = restartRank(first) * 10 + Math.max(0, ...pods.map((p) => STATE_SEVERITY[p.state]));
  return { subject, summary: oneLine(`${head}${message}`), lines, score, size: pods.length };
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
function agentRestartEntry(notices: readonly AgentRestartNotice[]): DigestEntry {
  const first = notices[0]!;
  const subject = `tbot agent on node ${first.node}`;
  const pods = notices.flatMap((n) => n.pods);
  const names = [...new Set(pods.map((p) => `${p.namespace}/${p.name}`))];
  const states = [...new Set(pods.map((p) => p.state))].sort(bySeverityDesc);
  const because = `${plural(names.length, 'pod')} ${states.join(', ')}`;
  const agent = first.agentPod ?? 'its agent pod';
  const version = first.version ? ` (tbot ${first.version})` : '';
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
  const message = first.outcome === 'restarted' || first.outcome === 'dry-run' || !first.message ? '' : ` · ${first.message}`;
  const lines = [fact(podList(names))];
  if (first.upgradeAdvice) {
    const upgrade = `${first.upgradeAdvice.charAt(0).toUpperCase()}${first.upgradeAdvice.slice(1)}`;
    lines.push(advise(`${upgrade}: a restart buys one certificate lifetime, the upgrade is the fix.`));
  }
  if (first.outcome === 'failed') lines.push(advise("Check the remediator's Role in the tbot namespace (mesh-cert-watch rbac) and its logs."));
  const rank = first.outcome === 'failed' || PAGE_REASONS.includes(first.reason) ? 3 : first.outcome === 'restarted' ? 2 : 1;
  return { subject, summary: oneLine(`${head}${message}`), lines, score: rank * 10 + Math.max(0, ...pods.map((p) => STATE_SEVERITY[p.state])), size: names.length };
}

function sweepEntry(sweep: SweepCompletedDetail): DigestEntry {
  const lines: DigestLine[] = [];
  let summary: string;
  if (sweep.failed) {
    const first = sweep.errors[0]?.error ?? 'no error recorded';
    summary = oneLine(`sweep ${sweep.sweepId} failed: ${first}`);
    lines.push(advise("The watcher is blind to this cluster: check the sampler's EKS access entry and that the API endpoint is reachable from its subnets."));
  } else {
    const errors = sweep.errorsTotal > 0 ? `, ${plural(sweep.errorsTotal, 'error')}` : '';
    summary = oneLine(`sweep ${sweep.sweepId} partial: the deadline stopped it after ${plural(sweep.summary.sampled, 'pod')} sampled${errors}`);
    lines.push(advise('Raise functions.sampler.timeoutSeconds or the cluster concurrency: unsampled pods are not watched.'));
  }
  const listed = sweep.errors.slice(sweep.failed ? 1 : 0, (sweep.failed ? 1 : 0) + MAX_SWEEP_ERRORS_LISTED);
  for (const e of listed) {
    const where = [e.namespace, e.name].filter((x): x is string => typeof x === 'string').join('/');
    lines.push(fact(oneLine(`${where ? `${where}: ` : ''}${e.error}`, 300)));
  }
  return { subject: null, summary, lines, score: sweep.failed ? 2 : 1, size: 1 };
}

function nodeEntry(node: NodeAdvice): DigestEntry {
  const shown = node.workloads.slice(0, MAX_PODS_LISTED).join(', ');
  const more = node.workloads.length > MAX_PODS_LISTED ? ` +${node.workloads.length - MAX_PODS_LISTED} more` : '';
  const version = node.version ? `, tbot ${node.version}` : '';
  return {
    subject: `tbot agent on node ${node.node}`,
    summary: oneLine(`${node.agentPod}${version} serves ${plural(node.workloads.length, 'workload')} in this message`),
    lines: [fact(oneLine(`workloads: ${shown}${more}`)), ...node.advice.map(advise)],
    score: 0,
    size: node.workloads.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Grouping: section → cluster → namespace → workload, worst first.

function sectionOfChange(detail: PodStateChangedDetail): DigestSectionId {
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

const compareEntries = (a: DigestEntry, b: DigestEntry): number => b.score - a.score || b.size - a.size || (a.subject ?? '').localeCompare(b.subject ?? '');

function clusterSummary(cluster: string, items: readonly NotificationItem[]): ClusterSummary {
  const mine = items.filter((i) => i.detail.cluster === cluster);
  const pods = (change: PodStateChangedDetail['change']) => new Set(mine.flatMap((i) => (i.kind === 'change' && i.detail.change === change ? [i.detail.uid] : []))).size;
  const workloads = (test: (d: RestartNotice) => boolean) =>
    new Set(mine.flatMap((i) => (i.kind === 'restart' && test(i.detail) ? [`${i.detail.namespace}/${i.detail.workload.kind}/${i.detail.workload.name}`] : []))).size;
  const agents = (test: (d: AgentRestartNotice) => boolean) => new Set(mine.flatMap((i) => (i.kind === 'agent-restart' && test(i.detail) ? [i.detail.node] : []))).size;
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
  return { cluster, parts };
}

function toneOf(groups: readonly DigestGroup[], items: readonly NotificationItem[]): DigestTone {
  const sections = new Set(groups.map((g) => g.section));
  if (sections.has('attention') || sections.has('opened') || sections.has('worsened')) return 'alert';
  if (items.some((i) => i.kind === 'sweep' && i.detail.failed)) return 'alert';
  if (sections.has('sweeps')) return 'warning';
  if (sections.has('restarts')) return 'restarts';
  return 'resolved';
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

/** The digest of `items` (all of them: filter first), or null when there is nothing to say. */
export function buildDigest(items: readonly NotificationItem[]): Digest | null {
  if (items.length === 0) return null;
  const book = new NodeBook();
  const rows: { section: DigestSectionId; cluster: string; namespace: string | null; entry: DigestEntry }[] = [];
  const workloads: WorkloadStatus[] = [];

  const changes = items.flatMap((i) => (i.kind === 'change' ? [i.detail] : []));
  const changeKey = (d: PodStateChangedDetail) => [sectionOfChange(d), d.cluster, d.namespace, d.workload ? `${d.workload.kind}/${d.workload.name}` : `pod/${d.name}`].join('\u0000');
  // Worst sections first, so node advice is collected from the rows that show it.
  const changeGroups = [...groupBy(changes, changeKey).values()].sort(
    (a, b) => DIGEST_SECTIONS.findIndex((s) => s.id === sectionOfChange(a[0]!)) - DIGEST_SECTIONS.findIndex((s) => s.id === sectionOfChange(b[0]!)),
  );
  for (const pods of changeGroups) {
    const section = sectionOfChange(pods[0]!);
    const { entry, status } = analyseChange(section, pods, book);
    rows.push({ section, cluster: pods[0]!.cluster, namespace: pods[0]!.namespace, entry });
    workloads.push(status);
  }

  const restarts = items.flatMap((i) => (i.kind === 'restart' ? [i.detail] : []));
  const restartKey = (d: RestartNotice) => [d.cluster, d.namespace, d.workload.kind, d.workload.name, d.outcome, d.reason].join('\u0000');
  for (const notices of groupBy(restarts, restartKey).values()) {
    const first = notices[0]!;
    rows.push({ section: restartRank(first) === 3 ? 'attention' : 'restarts', cluster: first.cluster, namespace: first.namespace, entry: restartEntry(notices) });
  }

  const agentRestarts = items.flatMap((i) => (i.kind === 'agent-restart' ? [i.detail] : []));
  const agentKey = (d: AgentRestartNotice) => [d.cluster, d.namespace, d.node, d.outcome, d.reason].join('\u0000');
  for (const notices of groupBy(agentRestarts, agentKey).values()) {
    const first = notices[0]!;
    const page = first.outcome === 'failed' || PAGE_REASONS.includes(first.reason);
    rows.push({ section: page ? 'attention' : 'restarts', cluster: first.cluster, namespace: first.namespace, entry: agentRestartEntry(notices) });
  }

  const nodes = book.list();
  for (const node of nodes) rows.push({ section: 'nodes', cluster: node.cluster, namespace: null, entry: nodeEntry(node) });

  // One row per cluster: the latest sweep speaks for it.
  const sweeps = items.flatMap((i) => (i.kind === 'sweep' ? [i.detail] : []));
  for (const list of groupBy(sweeps, (s) => s.cluster).values()) {
    const latest = [...list].sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0]!;
    rows.push({ section: 'sweeps', cluster: latest.cluster, namespace: null, entry: sweepEntry(latest) });
  }

  const groups: DigestGroup[] = [];
  for (const { id } of DIGEST_SECTIONS) {
    const inSection = rows.filter((r) => r.section === id);
    const byNamespace = [...groupBy(inSection, (r) => `${r.cluster}\u0000${r.namespace ?? ''}`).values()].map((list) => ({
      cluster: list[0]!.cluster,
      namespace: list[0]!.namespace,
      entries: list.map((r) => r.entry).sort(compareEntries),
    }));
    const worst = (g: { entries: DigestEntry[] }) => g.entries[0]!;
    const clusterWorst = new Map<string, DigestEntry>();
    for (const g of byNamespace) {
      const current = clusterWorst.get(g.cluster);
      if (!current || compareEntries(worst(g), current) < 0) clusterWorst.set(g.cluster, worst(g));
    }
    byNamespace.sort(
      (a, b) =>
        compareEntries(clusterWorst.get(a.cluster)!, clusterWorst.get(b.cluster)!) ||
        a.cluster.localeCompare(b.cluster) ||
        compareEntries(worst(a), worst(b)) ||
        (a.namespace ?? '').localeCompare(b.namespace ?? ''),
    );
    groups.push(...byNamespace.map((g) => ({ section: id, ...g })));
  }

  const clusters = [...new Set(groups.map((g) => g.cluster))];
  for (const item of items) if (!clusters.includes(item.detail.cluster)) clusters.push(item.detail.cluster);

  return {
    clusters,
    tone: toneOf(groups, items),
    summaries: clusters.map((c) => clusterSummary(c, items)),
    groups,
    nodes,
    workloads,
    sweepIds: [...new Set(items.map(sweepIdOf))],
    latestAt: items.map(instantOf).sort().at(-1)!,
  };
}
