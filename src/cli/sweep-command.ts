/** `mesh-cert-watch sweep`: the sampler's engine against a kubeconfig, read-only unless --remediate. */
import { randomUUID } from 'node:crypto';
import type { ParseArgsConfig } from 'node:util';
import { computeChanges } from '../core/changes.js';
import { KubeApiError, UsageError, describeError } from '../core/errors.js';
import { DEFAULT_TBOT_AGENTS, LABEL_SELECTOR_PATTERN, NAMESPACE_PATTERN, type TbotAgentSelector } from '../core/agents.js';
import { DEFAULT_REMEDIATION_POLICY } from '../core/remediation.js';
import { renderRemediationTable } from '../core/render-remediation.js';
import { renderSweepTable } from '../core/render.js';
import { InMemoryRestartGuard } from '../core/restart-guard.js';
import { runSweep } from '../core/sweep.js';
import { STATES, STATE_SEVERITY, type SweepReport } from '../core/types.js';
import { KubeClient, loadKubeConfig } from '../kube/kube-client.js';
import { kubeSweepSource } from '../kube/kube-sweep.js';
import { remediateEvent, type RemediationOutcome } from '../remediator/remediate-event.js';
import { indexSnapshot, nextSnapshot } from '../core/history.js';
import { renderRotationsLine } from '../core/render-history.js';
import { loadHistoryFile, saveHistoryFile } from './history-file.js';
import { parseCommandArgs } from './input.js';
import { hasRotationFlags, renewalPolicyFrom, ROTATION_HELP, ROTATION_OPTIONS } from './rotation-options.js';
import { EXIT, type CliIo } from './io.js';
import { COMMON_OPTIONS, THRESHOLD_HELP, commonSettings, durationMs, positiveInteger, stateSetting } from './settings.js';

export const SWEEP_HELP = `Usage: mesh-cert-watch sweep [options]

Lists pods (all namespaces, or -n ones), execs into each Running pod's istio-proxy and reads
Envoy's secrets with "pilot-agent request GET config_dump?resource=dynamic_active_secrets".
Pods without a sidecar are ignored; injected pods that are not Running count as skipped.

Options:
  --kubeconfig FILE        kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME           kubeconfig context (default: current context)
  --cluster NAME           cluster name in the report (default: the context's cluster)
  -n, --namespace NS       only this namespace; repeat for several
${THRESHOLD_HELP}
  -o, --output FORMAT      table (default) or json
  --history FILE           rotation history: compare every pod with its observation in FILE,
                           flag a leaf unchanged past its expected renewal point, count
                           rotations; FILE is then replaced (atomically) by this sweep's
                           snapshot. A missing FILE starts a new history
${ROTATION_HELP}
  --concurrency N          pods sampled at once                    [default 32]
  --timeout D              limit for each Kubernetes request: list, get, exec, patch
                           (a duration in whole seconds: 10s, 1m, 1m30s)   [default 10s]
  --max-time D             limit for the whole run: sampling stops in time for every
                           request to end by D; the run ends within D + 2s  [default none]
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
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  'max-time': { type: 'string' },
  'fail-on': { type: 'string' },
  remediate: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'tbot-namespace': { type: 'string' },
  'tbot-selector': { type: 'string' },
  history: { type: 'string' },
  ...ROTATION_OPTIONS,
} as const satisfies ParseArgsConfig['options'];

export async function sweepCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, SWEEP_OPTIONS, false);
  if (values.help) {
    io.stdout(SWEEP_HELP);
    return EXIT.ok;
  }
  const common = commonSettings(values, ['table', 'json']);
  const concurrency = positiveInteger('--concurrency', values.concurrency, 32);
  const timeoutMs = durationMs('--timeout', values.timeout, 10_000);
  const maxTimeMs = values['max-time'] === undefined ? undefined : durationMs('--max-time', values['max-time'], 0);
  const failOn = stateSetting('--fail-on', values['fail-on']);
  if (values['dry-run'] && !values.remediate) throw new UsageError('--dry-run', 'only with --remediate');
  const kubeConfig = loadKubeConfig({
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
  });
  const tbotAgents = tbotAgentSetting(values['tbot-namespace'], values['tbot-selector']);
  const startedAt = Date.now();
  // Every request is limited to --timeout; with --max-time, none runs past the run's end either.
  const runDeadline = maxTimeMs === undefined ? undefined : new Date(startedAt + maxTimeMs);
  const client = new KubeClient(kubeConfig, { requestTimeoutMs: timeoutMs, ...(runDeadline ? { deadline: runDeadline } : {}) });
  await checkNamespacesExist(client, values.namespace ?? []);
  const source = kubeSweepSource(client, {
    ...(values.namespace ? { namespaces: values.namespace } : {}),
    sampler: { timeoutMs, maxOutputBytes: 4 * 1024 * 1024 },
    tbotAgents,
  });
  if (values.history === undefined && hasRotationFlags(values)) {
    throw new UsageError('--renewal-interval', 'the renewal flags need --history FILE (the expected renewal point is judged with rotation history)');
  }
  const renewal = renewalPolicyFrom(values);
  const cluster = values.cluster ?? kubeConfig.getCurrentCluster()?.name ?? kubeConfig.getCurrentContext();
  const historyFile = values.history;
  const previousSnapshot = historyFile === undefined ? null : await loadHistoryFile(historyFile, cluster);
  const previous = indexSnapshot(previousSnapshot);
  const report = await runSweep(source, {
    cluster,
    sweepId: randomUUID(),
    thresholds: common.thresholds,
    concurrency,
    ...(common.now ? { now: common.now } : {}),
    // Stop starting pods a little before the end (an exec pair, at most a quarter of the run);
    // whatever is still in flight at the end is cut by the request deadline.
    ...(runDeadline ? { deadline: new Date(runDeadline.getTime() - Math.min(2 * timeoutMs, maxTimeMs! / 4)) } : {}),
    ...(historyFile !== undefined ? { history: { previous, renewal } } : {}),
  });
  if (historyFile !== undefined) {
    await saveHistoryFile(historyFile, nextSnapshot({ cluster, sweepId: report.sweepId, now: report.now, partial: report.partial, pods: report.pods, previous }));
  }
  const rotationsLine = report.rotations ? `${renderRotationsLine(report.rotations)}\n` : '';
  if (values.remediate) {
    const dryRun = values['dry-run'] === true;
    const outcomes = await remediateSweep(client, report, { dryRun, now: common.now, io, tbotAgents });
    if (common.output === 'json') {
      // `outcomes`: the Workload Restart details (as before); `agentRestarts`: the Agent Restart ones.
      const workloads = outcomes.flatMap((o) => (o.detailType === 'Workload Restart' ? [o.detail] : []));
      const agentRestarts = outcomes.flatMap((o) => (o.detailType === 'Agent Restart' ? [o.detail] : []));
      io.stdout(`${JSON.stringify({ ...report, remediation: { dryRun, outcomes: workloads, agentRestarts } }, null, 2)}\n`);
    }
    else io.stdout(`${renderSweepTable(report)}${rotationsLine}\n${renderRemediationTable(outcomes, dryRun)}`);
  } else {
    io.stdout(common.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${renderSweepTable(report)}${rotationsLine}`);
  }
  if (failOn && report.pods.some((pod) => STATE_SEVERITY[pod.state] >= STATE_SEVERITY[failOn])) return EXIT.failOn;
  return EXIT.ok;
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
