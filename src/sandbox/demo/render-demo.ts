/**
 * What `mesh-cert-watch demo` prints: the scenario, then per sweep what a user of the deployed
 * watcher would see (the sweep table, the events on the bus and where the rules sent them, the
 * remediator's outcomes, the pods the controller replaced, the Slack messages as text), then a
 * summary with the CronJob comparison. Pure string functions over the engine's results.
 */
import { AGENT_RESTART, POD_CERTIFICATE_STATE_CHANGED, POD_CERTIFICATE_UNHEALTHY, SWEEP_COMPLETED, WORKLOAD_RESTART } from '../../core/events/events.js';
import { renderRotationsLine } from '../../core/render/render-history.js';
import { renderRemediationTable } from '../../core/render/render-remediation.js';
import { formatDuration, renderColumns, renderSummaryLine, renderSweepTable } from '../../core/render/render.js';
import { STATES, type Summary } from '../../core/model/types.js';
import type { RoutedEvent } from '../emulator/local-event-bus.js';
import { CRONJOB_RESTART_INTERVAL_MINUTES as CRONJOB_INTERVAL_MINUTES } from '../../config/metric-names.js';
import type { DemoIntro, DemoResult, DemoSweep } from './run-demo.js';
import { DEMO_NAMESPACE } from './sock-shop.js';

const RULE_WIDTH = 96;

const hhmm = (at: Date): string => `${at.toISOString().slice(11, 16)} UTC`;

function rule(title: string): string {
  const head = `━━ ${title} `;
  return head + '━'.repeat(Math.max(3, RULE_WIDTH - head.length));
}

function indent(text: string, prefix: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `${prefix}${line}`.trimEnd())
    .join('\n');
}

export function renderIntro(intro: DemoIntro): string {
  const minutes = intro.sweeps * intro.intervalMinutes;
  const problems = intro.problems.map((p) => [`  ${p.where}`, p.description]);
  const { policy } = intro;
  return `${[
    `mesh-cert-watch demo: the sampler, remediator and notifier Lambda handlers, in this process, watching a`,
    `simulated EKS cluster "${intro.cluster}" (${intro.podCount} injected pods in namespace ${DEMO_NAMESPACE}).`,
    `Stand-ins: the Kubernetes API emulator (HTTPS + WebSocket exec) for EKS, dynalite for DynamoDB, a local`,
    `event bus with the stack's rule patterns for EventBridge, a local HTTP server for Slack. No AWS, no cluster.`,
    `Clock: ${intro.sweeps} sweeps, one every ${intro.intervalMinutes} min from ${intro.start.toISOString().slice(0, 16).replace('T', ' ')} UTC (${formatDuration(minutes * 60)} of simulated time).`,
    `Remediation (deployment defaults, dry-run off): restart on ${policy.restartStates.join(', ')}${policy.actOnProvenStale ? '; at stale too when the diagnosis is definite\n  (a missed renewal proven across sweeps, or certificate files that are never pushed)' : ''}; cooldown ${policy.cooldownMinutes} min; budget ${policy.budgetPerHour}/h; breaker above ${policy.breakerUnhealthyShare * 100}% unhealthy.`,
    `Rotation history: each sweep compares every pod with the previous sweep (S3 when deployed, memory here).`,
    '',
    'Scripted problems:',
    renderColumns([...problems, ['  every other pod', 'tbot 18.6.4 on its node renews the 1 h certificate every 20 minutes']]),
  ].join('\n')}\n\n`;
}

/** One line per event: what, which pod, what it says, where the rules sent it. */
function eventRows(routed: readonly RoutedEvent[]): string[][] {
  return routed.map(({ event, rules }) => {
    const d = event.detail as Record<string, unknown>;
    const pod = typeof d.name === 'string' ? `${String(d.namespace)}/${d.name}` : String(d.cluster);
    const findings = Array.isArray(d.findings) && d.findings.length > 0 ? ` [${d.findings.join(',')}]` : '';
    let what: string;
    switch (event['detail-type']) {
      case POD_CERTIFICATE_STATE_CHANGED:
        what = `${String(d.change)}: ${String(d.previousState ?? 'new')} → ${String(d.state ?? 'gone')}${findings}`;
        break;
      case POD_CERTIFICATE_UNHEALTHY:
        what = `${String(d.state)}${findings}`;
        break;
      case SWEEP_COMPLETED: {
        const summary = d.summary as Summary;
        const counts = STATES.filter((state) => summary[state] > 0).map((state) => `${state} ${summary[state]}`);
        what = `sampled ${summary.sampled}: ${counts.join(', ')}`;
        break;
      }
      case WORKLOAD_RESTART: {
        const workload = d.workload as { kind: string; name: string };
        what = `${workload.kind} ${workload.name}: ${String(d.outcome)} (${String(d.reason)})`;
        break;
      }
      case AGENT_RESTART:
        what = `tbot agent ${String(d.agentPod)} on node ${String(d.node)}: ${String(d.outcome)} (${String(d.reason)})`;
        break;
      default:
        what = '';
    }
    return [`  ${event['detail-type']}`, pod, what, rules.length > 0 ? `⇒ ${rules.join(', ')}` : '⇒ no rule'];
  });
}

/** The sweep's rotation history line (the sampler keeps a history, as deployed), or nothing. */
function rotationsLine(sweep: DemoSweep): string {
  return sweep.report.rotations ? `${renderRotationsLine(sweep.report.rotations)}\n` : '';
}

function hasNews(sweep: DemoSweep): boolean {
  return (
    sweep.operator.length > 0 ||
    sweep.remediation.length > 0 ||
    sweep.agentRestarts.length > 0 ||
    sweep.slack.length > 0 ||
    sweep.events.some((e) => e.event['detail-type'] === POD_CERTIFICATE_STATE_CHANGED)
  );
}

export interface SweepRenderOptions {
  readonly total: number;
  /** Only operator actions, restarts and Slack messages; quiet sweeps print nothing. */
  readonly quiet?: boolean;
}

export function renderSweep(sweep: DemoSweep, options: SweepRenderOptions): string {
  const title = `sweep ${sweep.index}/${options.total} · ${hhmm(sweep.at)}`;
  const news = hasNews(sweep);
  if (!news) {
    if (options.quiet) return '';
    return `${rule(`${title} · no change`)}\n${renderSummaryLine(sweep.report.summary)}; ${sweep.events.length} events, none routed to a person\n${rotationsLine(sweep)}\n`;
  }
  const parts: string[] = [rule(title)];
  for (const action of sweep.operator) parts.push(`operator: ${action}`);
  if (!options.quiet) {
    parts.push(`${renderSweepTable(sweep.report).trimEnd()}\n${rotationsLine(sweep)}`.trimEnd());
    parts.push(`events published by the sampler (${sweep.events.length}):\n${renderColumns(eventRows(sweep.events))}`);
  }
  if (sweep.remediation.length > 0 || sweep.agentRestarts.length > 0) {
    const outcomes = [
      ...sweep.agentRestarts.map((detail) => ({ detailType: AGENT_RESTART, detail }) as const),
      ...sweep.remediation.map((detail) => ({ detailType: WORKLOAD_RESTART, detail }) as const),
    ];
    parts.push(renderRemediationTable(outcomes, false).trimEnd());
    if (!options.quiet) parts.push(`events published by the remediator:\n${renderColumns(eventRows(sweep.restartEvents))}`);
  }
  for (const replaced of sweep.replacements) {
    parts.push(`controller: Deployment ${replaced.namespace}/${replaced.workload} rolled out: ${replaced.removed.join(', ')} → ${replaced.created.join(', ')} (the new pods start with new certificates)`);
  }
  for (const agent of sweep.agentReplacements) {
    const what = agent.removed ? `recreated ${agent.removed} as ${agent.created}` : `${agent.created} is Ready`;
    parts.push(`controller: DaemonSet teleport-system/tbot ${what} on node ${agent.node} (tbot ${agent.version}): every Envoy on the node reconnects and gets a fresh SVID, no application pod restarted`);
  }
  if (sweep.slack.length > 0) {
    const messages = sweep.slack.map((post) => indent(post.text, '  │ ')).join('\n\n');
    parts.push(`Slack, ${sweep.slack.length} message${sweep.slack.length === 1 ? '' : 's'} posted to the local webhook:\n${messages}`);
  } else if (!options.quiet) {
    parts.push('Slack: nothing to post');
  }
  for (const problem of sweep.logProblems) parts.push(`handler log: ${problem}`);
  const [heading, ...rest] = parts;
  return `${heading}\n${rest.join('\n\n')}\n\n`;
}

export interface DemoTotals {
  readonly eventsByType: Readonly<Record<string, number>>;
  /** Remediator outcomes by `outcome (reason)`. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Workloads restarted, by `Kind name`. */
  readonly restarted: Readonly<Record<string, number>>;
  /** tbot agents restarted, by node. */
  readonly agentsRestarted: Readonly<Record<string, number>>;
  /** tbot-served application pods replaced on the affected tbot node (the story says: zero). */
  readonly podsReplacedOnAffectedNode: number;
  readonly podsReplaced: number;
  readonly slackMessages: number;
  /** Pods seen with an expired certificate, with their findings then. */
  readonly expiredPods: readonly string[];
  /** What the 45-minute CronJob would have restarted over the same time. */
  readonly cronJobPodRestarts: number;
  readonly samplerWallMs: number;
}

const count = (map: Record<string, number>, key: string): void => void (map[key] = (map[key] ?? 0) + 1);

export function demoTotals(result: DemoResult): DemoTotals {
  const eventsByType: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  const restarted: Record<string, number> = {};
  const agentsRestarted: Record<string, number> = {};
  const expired = new Map<string, string>();
  const affectedNode = result.intro.affectedNode;
  let podsReplacedOnAffectedNode = 0;
  let podsReplaced = 0;
  for (const sweep of result.sweeps) {
    for (const e of [...sweep.events, ...sweep.restartEvents]) count(eventsByType, e.event['detail-type']);
    for (const d of sweep.remediation) {
      count(outcomes, `${d.outcome} (${d.reason})`);
      if (d.outcome === 'restarted') count(restarted, `${d.workload.kind} ${d.workload.name}`);
    }
    for (const d of sweep.agentRestarts) {
      count(outcomes, `agent ${d.outcome} (${d.reason})`);
      if (d.outcome === 'restarted') count(agentsRestarted, `node ${d.node}`);
    }
    for (const r of sweep.replacements) {
      podsReplaced += r.removed.length;
      const previous = result.sweeps[sweep.index - 2] ?? sweep;
      podsReplacedOnAffectedNode += r.removed.filter((name) => previous.report.pods.some((p) => p.name === name && p.node === affectedNode && p.source === 'tbot')).length;
    }
    for (const pod of sweep.report.pods) {
      if (pod.state === 'expired') expired.set(`${pod.namespace}/${pod.name}`, pod.findings.length > 0 ? ` (${pod.findings.join(', ')})` : '');
    }
  }
  const minutes = result.intro.sweeps * result.intro.intervalMinutes;
  return {
    eventsByType,
    outcomes,
    restarted,
    agentsRestarted,
    podsReplacedOnAffectedNode,
    podsReplaced,
    slackMessages: result.sweeps.reduce((n, s) => n + s.slack.length, 0),
    expiredPods: [...expired].sort(([a], [b]) => a.localeCompare(b)).map(([pod, findings]) => `${pod}${findings}`),
    cronJobPodRestarts: Math.round((result.intro.podCount * minutes) / CRONJOB_INTERVAL_MINUTES),
    samplerWallMs: result.sweeps.reduce((n, s) => n + s.wallMs.sampler, 0),
  };
}

const list = (map: Readonly<Record<string, number>>): string =>
  Object.entries(map)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key} ×${n}`)
    .join(', ') || 'none';

export function renderSummary(result: DemoResult): string {
  const totals = demoTotals(result);
  const { intro } = result;
  const minutes = intro.sweeps * intro.intervalMinutes;
  const workloadRestarts = Object.values(totals.restarted).reduce((a, b) => a + b, 0);
  const lines = [
    rule(`after ${intro.sweeps} sweeps (${formatDuration(minutes * 60)} simulated)`),
    `events published: ${list(totals.eventsByType)}`,
    `remediator outcomes: ${list(totals.outcomes)}`,
    `tbot agent restarts: ${list(totals.agentsRestarted)}; tbot pods restarted on node ${intro.affectedNode} (tbot ${intro.affectedVersion}): ${totals.podsReplacedOnAffectedNode}`,
    `restarts: ${workloadRestarts} rollout restart${workloadRestarts === 1 ? '' : 's'} (${list(totals.restarted)}), ${totals.podsReplaced} pods replaced`,
    `the ${CRONJOB_INTERVAL_MINUTES}-minute CronJob would have restarted all ${intro.podCount} pods every ${CRONJOB_INTERVAL_MINUTES} minutes: ≈ ${totals.cronJobPodRestarts} pod restarts in ${formatDuration(minutes * 60)}`,
    `certificates seen expired: ${totals.expiredPods.length === 0 ? 'none' : totals.expiredPods.join(', ')}`,
    `Slack messages: ${totals.slackMessages}`,
    `CloudWatch: ${result.metrics.length} distinct EMF metrics emitted (namespace, name, dimensions)`,
    `real time in the sampler handler: ${Math.round(totals.samplerWallMs / intro.sweeps)} ms per sweep of ${intro.podCount} pods (exec latency here ≈ 0; see "Simulation and cost" in README.md)`,
  ];
  return `${lines.join('\n')}\n`;
}
