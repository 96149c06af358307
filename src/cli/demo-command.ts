/**
 * `mesh-cert-watch demo [--sweeps N] [--quiet]`: the whole product in one process on a simulated
 * cluster and an accelerated clock (src/sandbox/demo/). Run from a checkout after `npm ci`: the local
 * DynamoDB engine is a devDependency, loaded only by this command.
 */
import { UsageError } from '../core/model/errors.js';
import { parseCommandArgs } from './input.js';

export const DEMO_HELP = `Usage: mesh-cert-watch demo [options]

Shows the whole product working, offline, in one process: a simulated EKS cluster (the
Kubernetes API emulator with a sock-shop mesh: healthy tbot pods, a pod whose tbot re-sends an
old certificate, pods whose Istio agent serves certificate files that never rotate, a pod that
cannot be sampled) is swept every 5 minutes of an accelerated clock by the real sampler,
remediator and notifier Lambda handlers, with dynalite for DynamoDB, a local event bus using the
stack's own rule patterns, and a local HTTP server for Slack. Restarts are real (dry-run off).

Per sweep it prints the sweep table, the events and where the rules sent them, the remediator's
outcomes, the pods the Deployment controller replaced and the Slack messages as text; then a
summary against the 45-minute restart CronJob. Needs no AWS credentials and no cluster (run it
from a checkout after "npm ci": the local DynamoDB engine is a devDependency).

Options:
  --sweeps N               scheduled sweeps to run, 5 minutes apart   [default 24]
  --quiet                  print only operator actions, restarts and Slack messages,
                           then the summary
  --report FILE            also write the run as one self-contained HTML page: pods per
                           state, remaining validity against the thresholds, restarts
                           against the CronJob, every Slack message, every decision
`;

const OPTIONS = {
  sweeps: { type: 'string' },
  quiet: { type: 'boolean' },
  report: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface DemoCommandIo {
  readonly stdout: (text: string) => void;
}

export async function demoCommand(args: readonly string[], io: DemoCommandIo): Promise<number> {
  const { values } = parseCommandArgs(args, OPTIONS, false);
  if (values.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  let sweeps: number | undefined;
  if (values.sweeps !== undefined) {
    sweeps = Number(values.sweeps);
    if (!Number.isInteger(sweeps) || sweeps < 1 || sweeps > 288) throw new UsageError('--sweeps', `must be an integer from 1 to 288, got "${values.sweeps}"`);
  }
  const quiet = values.quiet === true;
  // Loaded here so the CLI's other commands never load the demo's stand-ins.
  const { runDemo } = await import('../sandbox/demo/run-demo.js');
  const { renderIntro, renderSummary, renderSweep } = await import('../sandbox/demo/render-demo.js');
  let total = 0;
  const result = await runDemo({
    ...(sweeps !== undefined ? { sweeps } : {}),
    onStart: (intro) => {
      total = intro.sweeps;
      io.stdout(renderIntro(intro));
    },
    // Printed as each sweep ends: the demo reads like the cluster's timeline.
    onSweep: (sweep) => io.stdout(renderSweep(sweep, { total, quiet })),
  });
  io.stdout(renderSummary(result));
  if (typeof values.report === 'string') {
    const { writeReport } = await import('../sandbox/report/write-report.js');
    const { demoReportData } = await import('../sandbox/report/html-report.js');
    io.stdout(await writeReport(values.report, await demoReportData(result)));
  }
  return 0;
}
