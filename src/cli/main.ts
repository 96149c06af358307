/**
 * `mesh-cert-watch` command line: the same engine as the Lambdas, against a kubeconfig.
 * Exit codes: 0 ran, 1 `--fail-on` met, 2 bad usage/config/input, 3 cluster/API unreachable,
 * 4 internal error (a bug). Messages are one `error: …` line on stderr, never a stack trace.
 *
 * This module stays light: `--help` and `--version` load nothing else, and each command's module
 * (with client-node, the AWS SDK, the demo's stand-ins...) is imported only when it runs, so the
 * kubeconfig exec plugin (`token`) and `--help` start like a native tool.
 */
import { readFileSync } from 'node:fs';
import { ClusterUnreachableError, KubeApiError, MeshCertWatchError, TimeoutError, UsageError, describeError } from '../core/model/errors.js';
import { STATES } from '../core/model/types.js';
import { EXIT, processIo, type CliIo } from './io.js';

export { EXIT, type CliIo } from './io.js';

/** A command: its help text and its runner, loaded on demand. */
interface CommandModule {
  readonly help: string;
  readonly run: (args: readonly string[], io: CliIo) => number | Promise<number>;
}

const COMMANDS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  sweep: async () => {
    const { holdYoungGeneration } = await import('./heap-governor.js');
    holdYoungGeneration();
    const m = await import('./sweep-command.js');
    return { help: m.SWEEP_HELP, run: m.sweepCommand };
  },
  inspect: async () => {
    const m = await import('./inspect-command.js');
    return { help: m.INSPECT_HELP, run: m.inspectCommand };
  },
  rbac: async () => {
    const m = await import('./rbac-command.js');
    return { help: m.RBAC_HELP, run: m.rbacCommand };
  },
  token: async () => {
    const m = await import('./token-command.js');
    return { help: m.TOKEN_HELP, run: (args, io) => m.tokenCommand(args, io) };
  },
  'slack-preview': async () => {
    const m = await import('./slack-preview-command.js');
    return { help: m.SLACK_PREVIEW_HELP, run: m.slackPreviewCommand };
  },
  'notify-preview': async () => {
    const m = await import('./notify-preview-command.js');
    return { help: m.NOTIFY_PREVIEW_HELP, run: m.notifyPreviewCommand };
  },
  demo: async () => {
    const m = await import('./demo-command.js');
    return { help: m.DEMO_HELP, run: m.demoCommand };
  },
  watch: async () => {
    const m = await import('./watch-command.js');
    return { help: m.WATCH_HELP, run: (args, io) => m.watchCommand(args, io) };
  },
  simulate: async () => {
    const m = await import('./simulate-command.js');
    return { help: m.SIMULATE_HELP, run: m.simulateCommand };
  },
};

const USAGE = `mesh-cert-watch — find Istio sidecars whose SPIFFE certificate is not rotating

Usage:
  mesh-cert-watch sweep   [options]        sample every Running injected pod (read-only
                                           unless --remediate)
  mesh-cert-watch watch [POD] [options]    sample a pod, namespace or selector every interval;
                                           one line per rotation and per problem
                                           (--until-rotation: exit 0 on rotation, 1 if overdue)
  mesh-cert-watch inspect FILE|- [options] classify one captured Envoy config_dump
  mesh-cert-watch rbac    [options]        print the ClusterRoles and bindings of the
                                           sampler and the remediator (YAML)
  mesh-cert-watch token --cluster NAME     print an EKS token as an ExecCredential
                                           (like "aws eks get-token")
  mesh-cert-watch slack-preview FILE|-     render the Slack message for a file of events
                                           (Block Kit JSON, plain text and a Block Kit
                                           Builder link, offline)
  mesh-cert-watch notify-preview FILE|- --channel slack|pagerduty
                                           the payloads a destination of that channel
                                           would get (PagerDuty: Events API v2), offline
  mesh-cert-watch demo    [options]        the whole product on a simulated cluster and an
                                           accelerated clock, in this process (no AWS)
  mesh-cert-watch simulate [options]       restarts and expiries of the watcher vs the
                                           45-minute restart CronJob, and the monthly cost
  mesh-cert-watch help [COMMAND]
  mesh-cert-watch --version                print the version ("version": with Node and build)

Run "mesh-cert-watch help COMMAND" (${Object.keys(COMMANDS).join(', ')})
for its options.
States: ${STATES.join(', ')}.
Exit codes: 0 ran, 1 --fail-on met, 2 bad usage/config/input, 3 cluster/API unreachable,
4 internal error (please report it).
`;

/** The package's version, from the package.json above this module (sources or compiled). */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mesh-cert-watch' && pkg.version) return pkg.version;
    } catch {
      // Not at this level: the compiled tree sits one directory deeper than the sources.
    }
  }
  return 'unknown';
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-V') {
      io.stdout(`${packageVersion()}\n`);
      return EXIT.ok;
    }
    if (command === 'version') {
      // Which Node and which code ran: after the launcher's re-exec on an old system Node, and
      // whether the compiled build (dist/) or the TypeScript sources were loaded.
      const code = import.meta.url.endsWith('.ts') ? 'sources' : 'compiled';
      io.stdout(`mesh-cert-watch ${packageVersion()} (Node ${process.version}, ${code})\n`);
      return EXIT.ok;
    }
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      const topic = rest[0];
      const load = topic === undefined ? undefined : COMMANDS[topic];
      io.stdout(load ? (await load()).help : USAGE);
      return EXIT.ok;
    }
    const load = COMMANDS[command];
    if (!load) throw new UsageError('command', `unknown command "${command}"; run "mesh-cert-watch --help"`);
    return await (await load()).run(rest, io);
  } catch (error) {
    return reportFailure(error, io);
  }
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
