/**
 * `mesh-cert-watch` command line: the same engine as the Lambdas, against a kubeconfig.
 * Exit codes: 0 ran, 1 `--fail-on` met, 2 bad usage/config/input, 3 cluster/API unreachable,
 * 4 internal error (a bug). Messages are one `error: …` line on stderr, never a stack trace.
 */
import { randomUUID } from 'node:crypto';
import type { ParseArgsConfig } from 'node:util';
import { classifySecrets } from '../core/classify.js';
import { parseSecretsDump } from '../core/envoy-secrets.js';
import { ClusterUnreachableError, KubeApiError, MeshCertWatchError, TimeoutError, UsageError, describeError } from '../core/errors.js';
import { computeChanges } from '../core/changes.js';
import { DEFAULT_REMEDIATION_POLICY, type RemediationDetail } from '../core/remediation.js';
import { renderRemediationTable } from '../core/render-remediation.js';
import { renderSweepTable, renderVerdictTable } from '../core/render.js';
import { InMemoryRestartGuard } from '../core/restart-guard.js';
import { runSweep } from '../core/sweep.js';
import { DEFAULT_THRESHOLDS, parseThreshold } from '../core/threshold.js';
import { STATES, STATE_SEVERITY, type State, type Thresholds } from '../core/types.js';
import { KubeClient, loadKubeConfig } from '../kube/kube-client.js';
import { kubeSweepSource } from '../kube/kube-sweep.js';
import { rbacYaml } from '../rbac/rbac.js';
import { remediate } from '../remediator/remediate.js';
import { DEMO_HELP, demoCommand } from './demo-command.js';
import { SIMULATE_HELP, simulateCommand } from './simulate-command.js';
import { SLACK_PREVIEW_HELP, slackPreviewCommand } from './slack-preview-command.js';
import { TOKEN_HELP, tokenCommand } from './token-command.js';
import { parseCommandArgs, readInputFile } from './input.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
}

export const EXIT = { ok: 0, failOn: 1, usage: 2, unreachable: 3, internal: 4 } as const;

/**
 * `mesh-cert-watch … | head -1`: once the reader is gone, writes fail with EPIPE. That is the
 * reader's choice, not an error: stop quietly with the exit code so far (0), like kubectl does.
 */
let pipesGuarded = false;
function exitQuietlyOnClosedPipe(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
      throw error;
    });
  }
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

const USAGE = `mesh-cert-watch — find Istio sidecars whose SPIFFE certificate is not rotating

Usage:
  mesh-cert-watch sweep   [options]        sample every Running injected pod (read-only
                                           unless --remediate)
  mesh-cert-watch inspect FILE|- [options] classify one captured Envoy config_dump
  mesh-cert-watch rbac    [options]        print the ClusterRoles and bindings of the
                                           sampler and the remediator (YAML)
  mesh-cert-watch token --cluster NAME     print an EKS token as an ExecCredential
                                           (like "aws eks get-token")
  mesh-cert-watch slack-preview FILE|-     render the Slack message for a file of events
                                           (Block Kit JSON and plain text, offline)
  mesh-cert-watch demo    [options]        the whole product on a simulated cluster and an
                                           accelerated clock, in this process (no AWS)
  mesh-cert-watch simulate [options]       restarts and expiries of the watcher vs the
                                           45-minute restart CronJob, and the monthly cost
  mesh-cert-watch help [COMMAND]

Run "mesh-cert-watch help COMMAND" (sweep, inspect, rbac, token, slack-preview, demo, simulate)
for its options.
States: ${STATES.join(', ')}.
Exit codes: 0 ran, 1 --fail-on met, 2 bad usage/config/input, 3 cluster/API unreachable,
4 internal error (please report it).
`;

const THRESHOLD_HELP = `  --now ISO                evaluate as of this instant (default: now)
  --stale-after T          leaf older than T is "stale": duration (90s, 36m, 1h30m) or
                           share of the leaf lifetime (60%)      [default ${DEFAULT_THRESHOLDS.staleAfter.text}]
  --expiring-within T      leaf valid for less than T is "expiring"   [default ${DEFAULT_THRESHOLDS.expiringWithin.text}]
  -o, --output FORMAT      table (default) or json`;

const SWEEP_HELP = `Usage: mesh-cert-watch sweep [options]

Lists pods (all namespaces, or -n ones), execs into each Running pod's istio-proxy and reads
Envoy's secrets with "pilot-agent request GET config_dump?resource=dynamic_active_secrets".
Pods without a sidecar are ignored; injected pods that are not Running count as skipped.

Options:
  --kubeconfig FILE        kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME           kubeconfig context (default: current context)
  --cluster NAME           cluster name in the report (default: the context's cluster)
  -n, --namespace NS       only this namespace; repeat for several
${THRESHOLD_HELP}
  --concurrency N          pods sampled at once                    [default 32]
  --timeout D              limit for each Kubernetes request: list, get, exec, patch
                           (a duration in whole seconds: 10s, 1m, 1m30s)   [default 10s]
  --max-time D             limit for the whole run: sampling stops in time for every
                           request to end by D; the run ends within D + 2s  [default none]
  --fail-on STATE          exit 1 when a pod is in STATE or a worse one
                           (order: ${[...STATES].sort((a, b) => STATE_SEVERITY[a] - STATE_SEVERITY[b]).join(' < ')})
  --remediate              then run the remediator's rules over the pods that need attention
                           and rollout-restart the workloads they allow (restart states
                           ${DEFAULT_REMEDIATION_POLICY.restartStates.join(', ')}; cooldown ${DEFAULT_REMEDIATION_POLICY.cooldownSeconds / 60}m; at most ${DEFAULT_REMEDIATION_POLICY.budgetPerHour} restarts per run;
                           breaker above ${DEFAULT_REMEDIATION_POLICY.breakerUnhealthyShare * 100}% unhealthy; annotation mesh-cert-watch.io/policy);
                           outcomes follow the table, or a "remediation" object in the JSON
  --dry-run                with --remediate: print the plan, change nothing
`;

const RBAC_HELP = `Usage: mesh-cert-watch rbac [options]

Prints the ClusterRoles and ClusterRoleBindings of the sampler (read pods, exec into
istio-proxy) and the remediator (read pods and owners, patch controllers), bound to the
Kubernetes groups the EKS access entries map the Lambda roles to. Apply with
  mesh-cert-watch rbac | kubectl apply -f -

Options:
  --delete-bare-pods       also let the remediator delete pods (only for deployments that
                           set remediation.deleteBarePods)
`;

const INSPECT_HELP = `Usage: mesh-cert-watch inspect FILE|- [options]

Classifies one captured config_dump (full, ?mask= or ?resource= form), e.g.
  kubectl exec POD -c istio-proxy -- pilot-agent request GET config_dump?resource=dynamic_active_secrets > dump.json
  mesh-cert-watch inspect dump.json

Options:
${THRESHOLD_HELP}
`;

const COMMON_OPTIONS = {
  output: { type: 'string', short: 'o' },
  now: { type: 'string' },
  'stale-after': { type: 'string' },
  'expiring-within': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

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
} as const satisfies ParseArgsConfig['options'];

const RBAC_OPTIONS = {
  'delete-bare-pods': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  if (io === processIo) exitQuietlyOnClosedPipe();
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'sweep':
        return await sweepCommand(rest, io);
      case 'inspect':
        return await inspectCommand(rest, io);
      case 'rbac':
        return rbacCommand(rest, io);
      case 'slack-preview':
        return await slackPreviewCommand(rest, io);
      case 'token':
        return await tokenCommand(rest, io);
      case 'demo':
        return await demoCommand(rest, io);
      case 'simulate':
        return simulateCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(helpFor(rest[0]));
        return EXIT.ok;
      default:
        throw new UsageError('command', `unknown command "${command}"; run "mesh-cert-watch --help"`);
    }
  } catch (error) {
    return reportFailure(error, io);
  }
}

function helpFor(command: string | undefined): string {
  if (command === 'sweep') return SWEEP_HELP;
  if (command === 'inspect') return INSPECT_HELP;
  if (command === 'rbac') return RBAC_HELP;
  if (command === 'slack-preview') return SLACK_PREVIEW_HELP;
  if (command === 'token') return TOKEN_HELP;
  if (command === 'demo') return DEMO_HELP;
  if (command === 'simulate') return SIMULATE_HELP;
  return USAGE;
}

function reportFailure(error: unknown, io: CliIo): number {
  if (error instanceof UsageError || (error instanceof MeshCertWatchError && (error.code === 'CONFIG' || error.code === 'THRESHOLD' || error.code === 'DUMP'))) {
    io.stderr(`error: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ClusterUnreachableError || error instanceof KubeApiError || error instanceof TimeoutError) {
    io.stderr(`error: cannot sweep the cluster: ${describeError(error)}\n`);
    return EXIT.unreachable;
  }
  // Other typed failures (AWS for `token`, Slack, events): the outside world, not a bug.
  if (error instanceof MeshCertWatchError) {
    io.stderr(`error: ${describeError(error)}\n`);
    return EXIT.unreachable;
  }
  // Anything else is a bug in mesh-cert-watch: one line and its own exit code, no stack trace
  // (set MESH_CERT_WATCH_DEBUG=1 to see it).
  io.stderr(`error: internal error: ${describeError(error)} (this is a bug in mesh-cert-watch; please report it)\n`);
  if (process.env.MESH_CERT_WATCH_DEBUG === '1' && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return EXIT.internal;
}

interface CommonValues {
  output?: string;
  now?: string;
  'stale-after'?: string;
  'expiring-within'?: string;
}

function commonSettings(values: CommonValues): { output: 'table' | 'json'; now: Date | undefined; thresholds: Thresholds } {
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError('--output', `must be "table" or "json", got "${output}"`);
  let now: Date | undefined;
  if (values.now !== undefined) {
    now = new Date(values.now);
    if (Number.isNaN(now.getTime())) throw new UsageError('--now', `not an ISO 8601 instant: "${values.now}"`);
  }
  return {
    output,
    now,
    thresholds: {
      staleAfter: thresholdSetting('--stale-after', values['stale-after']) ?? DEFAULT_THRESHOLDS.staleAfter,
      expiringWithin: thresholdSetting('--expiring-within', values['expiring-within']) ?? DEFAULT_THRESHOLDS.expiringWithin,
    },
  };
}

function thresholdSetting(flag: string, text: string | undefined) {
  if (text === undefined) return undefined;
  try {
    return parseThreshold(text);
  } catch (error) {
    throw new UsageError(flag, describeError(error), { cause: error });
  }
}

function positiveInteger(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(flag, `must be a positive integer, got "${text}"`);
  return value;
}

const DURATION_FORMS = 'a duration in whole seconds such as 10s, 1m or 1m30s';

/** A duration flag: only what is accepted is named in the message (no percentages, no ms). */
function durationMs(flag: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  let seconds: number | undefined;
  if (!text.trim().endsWith('%')) {
    try {
      const parsed = parseThreshold(text);
      if (parsed.kind === 'duration') seconds = parsed.seconds;
    } catch {
      seconds = undefined;
    }
  }
  if (seconds === undefined) throw new UsageError(flag, `invalid duration ${JSON.stringify(text)}: must be ${DURATION_FORMS}`);
  return seconds * 1000;
}

function stateSetting(flag: string, text: string | undefined): State | undefined {
  if (text === undefined) return undefined;
  if (!(STATES as readonly string[]).includes(text)) throw new UsageError(flag, `unknown state "${text}" (one of ${STATES.join(', ')})`);
  return text as State;
}

async function sweepCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, SWEEP_OPTIONS, false);
  if (values.help) {
    io.stdout(SWEEP_HELP);
    return EXIT.ok;
  }
  const common = commonSettings(values);
  const concurrency = positiveInteger('--concurrency', values.concurrency, 32);
  const timeoutMs = durationMs('--timeout', values.timeout, 10_000);
  const maxTimeMs = values['max-time'] === undefined ? undefined : durationMs('--max-time', values['max-time'], 0);
  const failOn = stateSetting('--fail-on', values['fail-on']);
  if (values['dry-run'] && !values.remediate) throw new UsageError('--dry-run', 'only with --remediate');
  const kubeConfig = loadKubeConfig({
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
  });
  const startedAt = Date.now();
  // Every request is limited to --timeout; with --max-time, none runs past the run's end either,
  // and sampling stops starting pods early enough for the last exec pair to finish by then.
  const runDeadline = maxTimeMs === undefined ? undefined : new Date(startedAt + maxTimeMs);
  const client = new KubeClient(kubeConfig, { requestTimeoutMs: timeoutMs, ...(runDeadline ? { deadline: runDeadline } : {}) });
  await checkNamespacesExist(client, values.namespace ?? []);
  const source = kubeSweepSource(client, {
    ...(values.namespace ? { namespaces: values.namespace } : {}),
    sampler: { timeoutMs, maxOutputBytes: 4 * 1024 * 1024 },
  });
  const report = await runSweep(source, {
    cluster: values.cluster ?? kubeConfig.getCurrentCluster()?.name ?? kubeConfig.getCurrentContext(),
    sweepId: randomUUID(),
    thresholds: common.thresholds,
    concurrency,
    ...(common.now ? { now: common.now } : {}),
    // Stop starting pods a little before the end (an exec pair, at most a quarter of the run);
    // whatever is still in flight at the end is cut by the request deadline.
    ...(runDeadline ? { deadline: new Date(runDeadline.getTime() - Math.min(2 * timeoutMs, maxTimeMs! / 4)) } : {}),
  });
  if (values.remediate) {
    const dryRun = values['dry-run'] === true;
    const outcomes = await remediateSweep(client, report, { dryRun, now: common.now, io });
    if (common.output === 'json') io.stdout(`${JSON.stringify({ ...report, remediation: { dryRun, outcomes } }, null, 2)}\n`);
    else io.stdout(`${renderSweepTable(report)}\n${renderRemediationTable(outcomes, dryRun)}`);
  } else {
    io.stdout(common.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderSweepTable(report));
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
  report: Awaited<ReturnType<typeof runSweep>>,
  options: { dryRun: boolean; now: Date | undefined; io: CliIo },
): Promise<RemediationDetail[]> {
  const guard = new InMemoryRestartGuard();
  const policy = { ...DEFAULT_REMEDIATION_POLICY, dryRun: options.dryRun };
  const { unhealthy } = computeChanges({ previous: [], report, scope: 'all' });
  const outcomes: RemediationDetail[] = [];
  for (const detail of unhealthy) {
    outcomes.push(
      await remediate(
        { ...detail, sweepSummary: report.summary },
        {
          kube: client,
          guard,
          policy,
          // --now replays a past instant: restarts, cooldowns and event ages are judged at it too.
          clock: () => options.now ?? new Date(),
          onWarning: (message, error) => options.io.stderr(`warning: ${message}: ${describeError(error)}\n`),
        },
      ),
    );
  }
  return outcomes;
}

function rbacCommand(args: readonly string[], io: CliIo): number {
  const { values } = parseCommandArgs(args, RBAC_OPTIONS, false);
  if (values.help) {
    io.stdout(RBAC_HELP);
    return EXIT.ok;
  }
  io.stdout(rbacYaml({ deleteBarePods: values['delete-bare-pods'] === true }));
  return EXIT.ok;
}

async function inspectCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, COMMON_OPTIONS, true);
  if (values.help) {
    io.stdout(INSPECT_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('FILE', 'inspect takes exactly one FILE (or - for standard input)');
  const common = commonSettings(values);
  const file = positionals[0]!;
  const text = await readInputFile(file, io.readStdin);
  const verdict = classifySecrets(parseSecretsDump(text), { now: common.now ?? new Date(), thresholds: common.thresholds });
  io.stdout(common.output === 'json' ? `${JSON.stringify(verdict, null, 2)}\n` : renderVerdictTable(verdict));
  return EXIT.ok;
}
