/** `mesh-cert-watch sweep`: the sampler's engine against a kubeconfig, read-only unless --remediate. */
import { randomUUID } from 'node:crypto';
import type { ParseArgsConfig } from 'node:util';
import { computeChanges, needsAttention } from '../core/events/changes.js';
import { KubeApiError, UsageError, describeError } from '../core/model/errors.js';
import { DEFAULT_TBOT_AGENTS, LABEL_SELECTOR_PATTERN, NAMESPACE_PATTERN, type TbotAgentSelector } from '../core/judgement/agents.js';
import { DEFAULT_REMEDIATION_POLICY } from '../core/remediation/remediation.js';
import { renderRemediationTable } from '../core/render/render-remediation.js';
import { InMemoryRestartGuard } from './memory-restart-guard.js';
import { DEFAULT_MAX_EXEC_STARTS_PER_SECOND, clockStartingAt, runSweep } from '../core/judgement/sweep.js';
import { STATES, STATE_SEVERITY, type PodReport, type SweepReport } from '../core/model/types.js';
import { KubeClient, loadKubeConfig } from '../kube/kube-client.js';
import { kubeSweepSource } from '../kube/kube-sweep.js';
import { formatThresholds } from '../core/model/threshold.js';
import { remediateEvent, type RemediationOutcome } from '../remediator/remediate-event.js';
import { indexSnapshot, nextSnapshot } from '../core/judgement/history.js';
import { loadHistoryFile, saveHistoryFile } from './history-file.js';
import { parseCommandArgs } from './input.js';
import { hasRotationFlags, renewalPolicyFrom, ROTATION_HELP, ROTATION_OPTIONS, seconds } from './rotation-options.js';
import { EXIT, type CliIo } from './io.js';
import { ProgressLine, colorWanted, progressWanted, type ProgressCounts } from './progress.js';
import { COMMON_OPTIONS, THRESHOLD_HELP, commonSettings, durationMs, positiveInteger, stateSetting } from './settings.js';
import { sweepWriter, type SweepOutputFormat } from './sweep-output.js';
import { startHeapGovernor } from './heap-governor.js';

export const SWEEP_HELP = `Usage: mesh-cert-watch sweep [options]

Lists pods (all namespaces, or -n ones), execs into each Running pod's istio-proxy and reads
Envoy's secrets with "pilot-agent request GET config_dump?resource=dynamic_active_secrets".
Pods without a sidecar are ignored; injected pods that are not Running count as skipped.

Options:
  --kubeconfig FILE        kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME           kubeconfig context (default: current context)
  --cluster NAME           cluster name in the report (default: the context's cluster)
  -n, --namespace NS       only this namespace; repeat for several
  -l, --selector SEL       only pods with these labels, like kubectl (app=web,tier!=db,
                           'env in (a,b)'); the API server filters the list
${THRESHOLD_HELP}
  -o, --output FORMAT      table (default, worst first), json (one document, pods streamed
                           as judged, summary last) or ndjson (one object per line:
                           record "sweep", then "pod"s, then "summary")
  --stream                 table: print rows as pods are judged (header first, columns
                           widen as needed) instead of worst first at the end
  -q, --quiet              no live progress line (shown on stderr only when it is a
                           terminal, and never under CI or TERM=dumb; NO_COLOR: no colour)
  --history FILE           rotation history: compare every pod with its observation in FILE,
                           flag a leaf unchanged past its expected renewal point, count
                           rotations; FILE is then replaced (atomically) by this sweep's
                           snapshot. A missing FILE starts a new history
  --max-observation-age D  with --history: sample only the pods that are due (new, not
                           healthy last time, at or past their expected renewal point or
                           a threshold, or observed D ago or longer) and judge the others
                           from their last observation ("sampled": false). Off by default
                           here (the sampler Lambda defaults to 20m)
${ROTATION_HELP}
  --concurrency N          pods sampled at once                    [default 32]
  --timeout D              limit for each Kubernetes request: list, get, exec, patch
                           (a duration in whole seconds: 10s, 1m, 1m30s)   [default 10s]
  --max-time D             limit for the whole run: sampling stops in time for every
                           request to end by D; the run ends within D + 2s  [default none]
  --max-exec-rate N        start at most N exec streams a second, evenly spaced [default:
                           unlimited; the sampler Lambda uses ${DEFAULT_MAX_EXEC_STARTS_PER_SECOND}: exec streams
                           bypass API Priority and Fairness, so nothing else paces them]
  --fail-on STATE          exit 1 when a pod is in STATE or a worse one
                           (order: ${[...STATES].sort((a, b) => STATE_SEVERITY[a] - STATE_SEVERITY[b]).join(' < ')})
  --tbot-namespace NS      namespace of the tbot agent DaemonSet   [default ${DEFAULT_TBOT_AGENTS.namespace}]
  --tbot-selector SEL      label selector of the tbot agent pods   [default ${DEFAULT_TBOT_AGENTS.labelSelector}]
                           each tbot-served pod is mapped to the agent on its node; agents
                           older than a rotation fix make their pods "tbot-outdated"
  --remediate              then run the remediator's rules over the pods that need attention
                           and rollout-restart the workloads they allow (restart states
                           ${DEFAULT_REMEDIATION_POLICY.restartStates.join(', ')}; cooldown ${DEFAULT_REMEDIATION_POLICY.cooldownSeconds / 60}m; at most ${DEFAULT_REMEDIATION_POLICY.budgetPerHour} restarts per run;
                           breaker above ${DEFAULT_REMEDIATION_POLICY.breakerUnhealthyShare * 100}% unhealthy; annotation mesh-cert-watch.io/policy);
                           for a tbot-side diagnosis, restart the node's tbot agent instead
                           (one agent at a time, never while a replacement is not Ready);
                           outcomes follow the table, or a "remediation" object in the JSON
  --dry-run                with --remediate: print the plan, change nothing
`;

const SWEEP_OPTIONS = {
  ...COMMON_OPTIONS,
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  cluster: { type: 'string' },
  namespace: { type: 'string', short: 'n', multiple: true },
  selector: { type: 'string', short: 'l' },
  stream: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  concurrency: { type: 'string' },
  'max-exec-rate': { type: 'string' },
  timeout: { type: 'string' },
  'max-time': { type: 'string' },
  'fail-on': { type: 'string' },
  remediate: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'tbot-namespace': { type: 'string' },
  'tbot-selector': { type: 'string' },
  history: { type: 'string' },
  'max-observation-age': { type: 'string' },
  ...ROTATION_OPTIONS,
} as const satisfies ParseArgsConfig['options'];

export async function sweepCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, SWEEP_OPTIONS, false);
  if (values.help) {
    io.stdout(SWEEP_HELP);
    return EXIT.ok;
  }
  const common = commonSettings<SweepOutputFormat>(values, ['table', 'json', 'ndjson']);
  if (values.stream && common.output !== 'table') throw new UsageError('--stream', `only with --output table (${common.output} always streams)`);
  const selector = values.selector?.trim();
  if (values.selector !== undefined && !selector) throw new UsageError('--selector', 'must not be empty');
  const concurrency = positiveInteger('--concurrency', values.concurrency, 32);
  const timeoutMs = durationMs('--timeout', values.timeout, 10_000);
  const maxExecRate = values['max-exec-rate'] === undefined ? undefined : positiveInteger('--max-exec-rate', values['max-exec-rate'], 1);
  const maxTimeMs = values['max-time'] === undefined ? undefined : durationMs('--max-time', values['max-time'], 0);
  const failOn = stateSetting('--fail-on', values['fail-on']);
  if (values['dry-run'] && !values.remediate) throw new UsageError('--dry-run', 'only with --remediate');
  const kubeConfig = loadKubeConfig({
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
  });
  const tbotAgents = tbotAgentSetting(values['tbot-namespace'], values['tbot-selector']);
  const runStartMs = Date.now();
  // Every request is limited to --timeout; with --max-time, none runs past the run's end either.
  const runDeadline = maxTimeMs === undefined ? undefined : new Date(runStartMs + maxTimeMs);
  const client = new KubeClient(kubeConfig, { requestTimeoutMs: timeoutMs, ...(runDeadline ? { deadline: runDeadline } : {}) });
  await checkNamespacesExist(client, values.namespace ?? []);
  const listing = { items: 0, targets: 0, remaining: null as number | null, done: false };
  const kubeSource = kubeSweepSource(client, {
    ...(values.namespace ? { namespaces: values.namespace } : {}),
    ...(selector ? { labelSelector: selector } : {}),
    sampler: { timeoutMs, maxOutputBytes: 4 * 1024 * 1024 },
    onPage: (page) => {
      listing.items += page.items;
      listing.targets += page.targets;
      listing.remaining = page.remainingItemCount;
    },
    tbotAgents,
  });
  const source = {
    ...kubeSource,
    listPods: async function* () {
      yield* kubeSource.listPods();
      listing.done = true;
    },
  };
  if (values.history === undefined && hasRotationFlags(values)) {
    throw new UsageError('--renewal-interval', 'the renewal flags need --history FILE (the expected renewal point is judged with rotation history)');
  }
  const renewal = renewalPolicyFrom(values);
  if (values.history === undefined && values['max-observation-age'] !== undefined) {
    throw new UsageError('--max-observation-age', 'needs --history FILE (a pod is judged from its observation in FILE when it is not due)');
  }
  const maxObservationAgeSeconds =
    values['max-observation-age'] === undefined ? undefined : seconds('--max-observation-age', values['max-observation-age'], 0, 1);
  const cluster = values.cluster ?? kubeConfig.getCurrentCluster()?.name ?? kubeConfig.getCurrentContext();
  const historyFile = values.history;
  const previousSnapshot = historyFile === undefined ? null : await loadHistoryFile(historyFile, cluster);
  const previous = indexSnapshot(previousSnapshot);

  const env = io.env ?? {};
  const judged = { count: 0, errors: 0 };
  const progress =
    io.stderrTerminal && progressWanted({ terminal: true, quiet: values.quiet === true, env })
      ? new ProgressLine({ write: io.stderr, columns: () => io.stderrTerminal?.columns ?? 80, color: colorWanted(env) }, () => expectedCounts(judged, listing), {
          ...(io.stderrTerminal.refreshMs !== undefined ? { intervalMs: io.stderrTerminal.refreshMs } : {}),
        })
      : undefined;
  // Rows and the progress line share the screen only when stdout is that terminal too.
  const write = progress && io.stdoutTerminal
    ? (text: string) => {
        progress.clear();
        io.stdout(text);
        progress.refresh();
      }
    : io.stdout;
  const writer = sweepWriter(common.output, write, { stream: values.stream === true });
  let worst = -1;
  const startedAt = new Date();
  const sweepId = randomUUID();
  // Memory flat in the number of pods: the garbage each pod leaves is collected as it accrues.
  const governor = startHeapGovernor();
  try {
    writer.begin({
      cluster,
      sweepId,
      startedAt: startedAt.toISOString(),
      now: (common.now ?? startedAt).toISOString(),
      thresholds: formatThresholds(common.thresholds),
    });
    progress?.start();
    const report = await runSweep(source, {
      cluster,
      sweepId,
      thresholds: common.thresholds,
      concurrency,
      // The sweep's start, already printed, then the time.
      clock: clockStartingAt(startedAt),
      ...(maxExecRate !== undefined ? { maxStartsPerSecond: maxExecRate } : {}),
      ...(common.now ? { now: common.now } : {}),
      // Stop starting pods a little before the end (an exec pair, at most a quarter of the run);
      // whatever is still in flight at the end is cut by the request deadline.
      ...(runDeadline ? { deadline: new Date(runDeadline.getTime() - Math.min(2 * timeoutMs, maxTimeMs! / 4)) } : {}),
      ...(historyFile !== undefined
        ? { history: { previous, renewal, ...(maxObservationAgeSeconds !== undefined ? { due: { maxObservationAgeSeconds } } : {}) } }
        : {}),
      // Keep only what is still needed after the sweep: every pod for the history snapshot,
      // the pods the remediator would hear about for --remediate; nothing otherwise.
      retainPod: historyFile !== undefined ? () => true : values.remediate ? (pod) => needsAttention(pod) : () => false,
      onPod: (pod: PodReport) => {
        judged.count++;
        if (pod.state === 'unreachable') judged.errors++;
        worst = Math.max(worst, STATE_SEVERITY[pod.state]);
        writer.pod(pod);
      },
    });
    progress?.stop();
    if (historyFile !== undefined) {
      await saveHistoryFile(historyFile, nextSnapshot({ cluster, sweepId: report.sweepId, now: report.now, partial: report.partial, pods: report.pods, previous }));
    }
    const tail = {
      finishedAt: report.finishedAt,
      summary: report.summary,
      partial: report.partial,
      ...(report.rotations ? { rotations: report.rotations } : {}),
      ...(report.agents ? { agents: report.agents } : {}),
      ...(report.agentsError !== undefined ? { agentsError: report.agentsError } : {}),
      ...(report.listError !== undefined ? { listError: report.listError } : {}),
    };
    if (values.remediate) {
      const dryRun = values['dry-run'] === true;
      const outcomes = await remediateSweep(client, report, { dryRun, now: common.now, io, tbotAgents });
      // `outcomes`: the Workload Restart details (as before); `agentRestarts`: the Agent Restart ones.
      const workloads = outcomes.flatMap((o) => (o.detailType === 'Workload Restart' ? [o.detail] : []));
      const agentRestarts = outcomes.flatMap((o) => (o.detailType === 'Agent Restart' ? [o.detail] : []));
      await writer.end(tail, { json: { remediation: { dryRun, outcomes: workloads, agentRestarts } }, tableAppendix: renderRemediationTable(outcomes, dryRun) });
    } else {
      await writer.end(tail);
    }
  } finally {
    governor.stop();
    progress?.stop();
    writer.dispose();
  }
  if (failOn && worst >= STATE_SEVERITY[failOn]) return EXIT.failOn;
  return EXIT.ok;
}

/** Progress counts; the expected total is estimated from the pages listed so far. */
function expectedCounts(judged: { count: number; errors: number }, listing: { items: number; targets: number; remaining: number | null; done: boolean }): ProgressCounts {
  if (listing.done) return { judged: judged.count, errors: judged.errors, expected: listing.targets, expectedFinal: true };
  if (listing.remaining === null || listing.items === 0) return { judged: judged.count, errors: judged.errors, expected: listing.targets > 0 ? listing.targets : null, expectedFinal: false };
  // Injected Running pods are assumed as common in the rest of the list as in what was listed.
  const share = listing.targets / listing.items;
  return { judged: judged.count, errors: judged.errors, expected: Math.round(listing.targets + listing.remaining * share), expectedFinal: false };
}

/**
 * `-n typo` must not look like a clean sweep: a namespace the API server says does not exist is a
 * usage error (kubectl's words). Without the right to read namespaces the sweep just goes on.
 */
async function checkNamespacesExist(client: KubeClient, namespaces: readonly string[]): Promise<void> {
  for (const name of new Set(namespaces)) {
    try {
      await client.call(`get namespace ${name}`, () => client.core.readNamespace({ name }));
    } catch (error) {
      if (error instanceof KubeApiError && error.statusCode === 404) {
        throw new UsageError('--namespace', `namespaces "${name}" not found`, { cause: error });
      }
      if (error instanceof KubeApiError && (error.statusCode === 403 || error.statusCode === 401)) continue;
      throw error;
    }
  }
}

/**
 * The remediator's engine over the pods this sweep would send as `Pod Certificate Unhealthy`
 * events, one at a time (worst first), with an in-memory lease and budget for this run.
 */
async function remediateSweep(
  client: KubeClient,
  report: SweepReport,
  options: { dryRun: boolean; now: Date | undefined; io: CliIo; tbotAgents: TbotAgentSelector },
): Promise<RemediationOutcome[]> {
  const guard = new InMemoryRestartGuard();
  const policy = { ...DEFAULT_REMEDIATION_POLICY, dryRun: options.dryRun };
  const { unhealthy } = computeChanges({ previous: [], report, scope: 'all' });
  const outcomes: RemediationOutcome[] = [];
  for (const detail of unhealthy) {
    outcomes.push(
      await remediateEvent(
        { ...detail, sweepSummary: report.summary },
        {
          kube: client,
          guard,
          policy,
          tbotAgents: options.tbotAgents,
          // --now replays a past instant: restarts, cooldowns and event ages are judged at it too.
          clock: () => options.now ?? new Date(),
          onWarning: (message, error) => options.io.stderr(`warning: ${message}: ${describeError(error)}\n`),
        },
      ),
    );
  }
  return outcomes;
}

function tbotAgentSetting(namespace: string | undefined, selector: string | undefined): TbotAgentSelector {
  if (namespace !== undefined && !NAMESPACE_PATTERN.test(namespace)) throw new UsageError('--tbot-namespace', `not a namespace name: "${namespace}"`);
  if (selector !== undefined && (selector.trim() === '' || !LABEL_SELECTOR_PATTERN.test(selector))) {
    throw new UsageError('--tbot-selector', `not a label selector such as app=tbot: "${selector}"`);
  }
  return { namespace: namespace ?? DEFAULT_TBOT_AGENTS.namespace, labelSelector: selector ?? DEFAULT_TBOT_AGENTS.labelSelector };
}
