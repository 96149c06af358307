/**
 * `npm run bench -- detection`: time-to-detect of tbot's rotation failures with the deployment's
 * default schedule, measured through the sampler's engine (sweepCluster over the Kubernetes API
 * emulator, the S3 history port in memory, a fake clock: no sleeping). For each phase of the
 * leaf's issue against the sweep grid (0-4 min past a sweep), the broken pod is swept every
 * `rateMinutes` and the first sweep that flags it is reported in minutes after the leaf's issue,
 * with rotation history and without it (`--stale-after` alone). Then the detection model's
 * figures over 200 random phases and its false-positive rate on a jittered healthy population,
 * and the simulation's application restarts per day, watcher against the 45-minute CronJob.
 */
import type { KubeClientFactory } from '../../src/ports/clusters.js';
import type { PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { parseDeploymentConfig } from '../../src/config/deployment.js';
import { samplerRuntimeInput } from '../../src/config/runtime-configs.js';
import { parseRuntimeConfig, samplerRuntimeConfig } from '../../src/config/runtime.js';
import { FakeClock } from '../../src/sandbox/emulator/fake-clock.js';
import { startKubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { MemoryHistoryStore } from '../../src/sandbox/emulator/memory-history.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import type { IssuedLeaf } from '../../src/sandbox/emulator/pki.js';
import { createMeshPki, sidecarSecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { sweepCluster } from '../../src/sampler/sweep-cluster.js';
import { defaultDetectionSettings, renderDetection, simulateDetection } from '../../src/sandbox/simulation/detection.js';
import { deploymentDefaults, runSimulation } from '../../src/sandbox/simulation/report.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';
import { MemoryLedger } from '../../src/sandbox/emulator/memory-ledger.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-27T12:00:00.000Z');

const acceptAll = {
  send: async (command: { input: { Entries?: readonly unknown[] } }): Promise<PutEventsCommandOutput> => ({
    FailedEntryCount: 0,
    Entries: (command.input.Entries ?? []).map((_, i) => ({ EventId: `e${i}` })),
    $metadata: {},
  }),
};

/** What the detection bench measures: minutes after issuance of the first sweep that flags the pod. */
export interface TimeToDetect {
  readonly rateMinutes: number;
  /** FAILURE, ISSUED, WITH HISTORY, WITHOUT HISTORY, FINDING (the header first). */
  readonly rows: readonly (readonly string[])[];
  /** tbot re-sends its cached leaf, with history. */
  readonly resent: readonly number[];
  /** tbot stopped pushing, with history. */
  readonly stopped: readonly number[];
  /** Either, without history (`--stale-after` alone). */
  readonly none: readonly number[];
}

/**
 * Sweeps one tbot pod every `rateMinutes` (the deployment default) through sweepCluster with the
 * emulator and a fake clock, for each phase of the leaf's issue against the sweep grid.
 * Deterministic: no wall clock is involved.
 */
export async function measureTimeToDetect(): Promise<TimeToDetect> {
  const deployment = parseDeploymentConfig({ region: 'us-east-1', clusters: [{ name: 'bench' }], notifications: { slackWebhookSecret: 'unused' } });
  const rateMinutes = deployment.clusters[0]!.schedule.rateMinutes;
  const runtime = parseRuntimeConfig(samplerRuntimeConfig, { MESH_CERT_WATCH_CONFIG: JSON.stringify(samplerRuntimeInput(deployment, { ledgerTableName: 'ledger', historyBucketName: 'history' })) });
  const cluster = runtime.clusters[0]!;

  const emulator = await startKubeApiEmulator();
  const pki = await createMeshPki('example.org');
  const mesh = new Mesh(emulator, { startTime: new Date(T0 - 600 * MINUTE) });
  mesh.addNamespace('shop');
  const pod = mesh.addDeployment('shop', 'orders').pods[0]!;
  const kubeClientFor: KubeClientFactory = async () => new KubeClient(emulator.kubeConfig());
  const rows: string[][] = [['FAILURE', 'ISSUED', 'WITH HISTORY', 'WITHOUT HISTORY', 'FINDING']];
  const detected: Record<string, number[]> = { resent: [], stopped: [], none: [] };
  try {
    for (const variant of ['resent', 'stopped'] as const) {
      for (let phase = 0; phase < rateMinutes; phase++) {
        const issuedMs = T0 + phase * MINUTE + 30_000;
        let leaf: IssuedLeaf | null = null;
        const script = async (nowMs: number): Promise<void> => {
          const pushes = variant === 'resent' ? Math.floor((nowMs - issuedMs) / (20 * MINUTE)) : 0;
          const secrets = await sidecarSecrets(pki, {
            servedBy: 'tbot',
            namespace: 'shop',
            serviceAccount: 'orders',
            issuedAt: new Date(issuedMs),
            pushedAt: new Date(issuedMs + pushes * 20 * MINUTE),
            lifetimeSeconds: 3600,
            ...(leaf ? { leaf } : {}),
          });
          leaf = secrets.leaf;
          emulator.setProxyResponses('shop', pod.metadata.name, secrets.responses);
        };
        const firstFlag = async (withHistory: boolean): Promise<{ minutes: number; finding: string }> => {
          const clock = new FakeClock(T0 + rateMinutes * MINUTE);
          const history = new MemoryHistoryStore();
          for (;;) {
            await script(clock.now());
            const outcome = await sweepCluster(
              { cluster, sweepId: `s${clock.now()}` },
              { kubeClientFor, ledger: new MemoryLedger(), ...(withHistory ? { history } : {}), events: new EventBridgeSink(acceptAll, 'bench'), clock: clock.date },
            );
            const judged = outcome.report!.pods[0]!;
            if (judged.state !== 'healthy') return { minutes: (clock.now() - issuedMs) / MINUTE, finding: judged.findings.join(',') };
            await clock.sleep(rateMinutes * MINUTE);
          }
        };
        const withHistory = await firstFlag(true);
        const without = await firstFlag(false);
        detected[variant]!.push(withHistory.minutes);
        detected.none!.push(without.minutes);
        rows.push([
          variant === 'resent' ? 'tbot re-sends its cached leaf' : 'tbot stopped pushing',
          `${phase}m30s after a sweep`,
          `${withHistory.minutes.toFixed(1)} min`,
          `${without.minutes.toFixed(1)} min`,
          withHistory.finding,
        ]);
      }
    }
  } finally {
    await emulator.close();
  }
  return { rateMinutes, rows, resent: detected.resent!, stopped: detected.stopped!, none: detected.none! };
}

const worst = (list: readonly number[]) => Math.max(...list).toFixed(1);
const mean = (list: readonly number[]) => (list.reduce((a, b) => a + b, 0) / list.length).toFixed(1);

/** The one-line summary the README quotes (test/readme/bench-figures.test.ts re-measures it). */
export function timeToDetectLine(m: TimeToDetect): string {
  return (
    `time-to-detect, minutes after issuance: re-sent leaf ${mean(m.resent)} mean / ${worst(m.resent)} worst; ` +
    `pushes stopped ${mean(m.stopped)} / ${worst(m.stopped)}; without history ${mean(m.none)} / ${worst(m.none)} ` +
    `(ratio ${(Number(mean(m.none)) / Number(mean(m.resent))).toFixed(2)}× later)`
  );
}

/** What `simulate` runs by default (`--pods 1000 --broken 5% --hours 24`, seed 1, replicas 2). */
export const SIMULATE_DEFAULTS = { pods: 1000, brokenShare: 0.05, hours: 24, seed: 1, replicas: 2 } as const;

/**
 * Application restarts per day from the simulation, watcher against the 45-minute CronJob: the
 * generic mesh (`simulate` with its defaults) and the tbot node scenario at the deployment's
 * defaults (rotation history on, `actOnProvenStale` on: the watcher acts at the first missed
 * renewal). Pure: the same lines every run; the README quotes them.
 */
export function restartsPerDayLines(): string[] {
  const defaults = deploymentDefaults();
  const report = runSimulation({ ...defaults.settings, ...SIMULATE_DEFAULTS }, defaults.cost);
  const n = (value: number) => Math.round(value).toLocaleString('en-US');
  const { pods, brokenShare, hours } = SIMULATE_DEFAULTS;
  const node = report.tbotNode.find((r) => r.settings.actAtProvenStale)!;
  const atExpiring = report.tbotNode.find((r) => !r.settings.actAtProvenStale)!;
  return [
    `application restarts per day (simulate --pods ${pods} --broken ${brokenShare * 100}% --hours ${hours}): watcher ${n(report.perDay.watcherPodRestarts)}, ` +
      `45-minute CronJob ${n(report.perDay.cronJobPodRestarts)} (${Number.isFinite(report.ratio) ? `${report.ratio.toFixed(1)}×` : 'the watcher restarted none'})`,
    `tbot node (${node.settings.podsOnNode} pods on an agent that does not send renewed SVIDs; the watcher acts ${node.actAfterMinutes} min after issuance): ` +
      `watcher ${node.watcher.applicationRestartsPerDay} application restarts per day (${node.watcher.agentRestartsPerDay} agent restarts; ` +
      `${atExpiring.watcher.agentRestartsPerDay} when it waits for expiring), restarting workloads instead ${n(node.watcherWorkloadsOnly.applicationRestartsPerDay)}, ` +
      `45-minute CronJob ${n(node.cronJob.applicationRestartsPerDay)}`,
  ];
}

export async function benchDetection(): Promise<void> {
  const measured = await measureTimeToDetect();
  console.log(`\n## detection: tbot failures, default schedule (a sweep every ${measured.rateMinutes} min), through sweepCluster + emulator + fake clock`);
  const widths = measured.rows[0]!.map((_, i) => Math.max(...measured.rows.map((r) => r[i]!.length)));
  for (const row of measured.rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd());
  console.log(timeToDetectLine(measured));
  console.log(`\n${renderDetection(simulateDetection(defaultDetectionSettings({ scheduleMinutes: measured.rateMinutes })))}`);
  console.log('\n## restarts: the simulation, the watcher against the 45-minute CronJob');
  for (const line of restartsPerDayLines()) console.log(line);
}
