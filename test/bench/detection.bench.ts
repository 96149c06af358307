/**
 * `npm run bench -- detection`: time-to-detect of tbot's rotation failures with the deployment's
 * default schedule, measured through the sampler's engine (sweepCluster over the Kubernetes API
 * emulator, the S3 history port in memory, a fake clock: no sleeping). For each phase of the
 * leaf's issue against the sweep grid (0-4 min past a sweep), the broken pod is swept every
 * `rateMinutes` and the first sweep that flags it is reported in minutes after the leaf's issue,
 * with rotation history and without it (`--stale-after` alone). Then the detection model's
 * figures over 200 random phases and its false-positive rate on a jittered healthy population.
 */
import type { KubeClientFactory } from '../../src/ports/clusters.js';
import type { PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { parseDeploymentConfig } from '../../src/config/deployment.js';
import { samplerRuntimeInput } from '../../src/config/runtime-configs.js';
import { parseRuntimeConfig, samplerRuntimeConfig } from '../../src/config/runtime.js';
import type { LedgerEntry, LedgerWrite } from '../../src/core/events/changes.js';
import { FakeClock } from '../../src/sandbox/emulator/fake-clock.js';
import { startKubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { MemoryHistoryStore } from '../../src/sandbox/emulator/memory-history.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import type { IssuedLeaf } from '../../src/sandbox/emulator/pki.js';
import { createMeshPki, sidecarSecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { sweepCluster } from '../../src/sampler/sweep-cluster.js';
import { defaultDetectionSettings, renderDetection, simulateDetection } from '../../src/sandbox/simulation/detection.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-27T12:00:00.000Z');

class MemoryLedger {
  private entries: LedgerEntry[] = [];
  async load(): Promise<readonly LedgerEntry[]> {
    return this.entries;
  }
  async apply(_cluster: string, writes: readonly LedgerWrite[]): Promise<void> {
    for (const write of writes) {
      const uid = write.kind === 'put' ? write.entry.uid : write.uid;
      this.entries = this.entries.filter((entry) => entry.uid !== uid);
      if (write.kind === 'put') this.entries.push(write.entry);
    }
  }
}

const acceptAll = {
  send: async (command: { input: { Entries?: readonly unknown[] } }): Promise<PutEventsCommandOutput> => ({
    FailedEntryCount: 0,
    Entries: (command.input.Entries ?? []).map((_, i) => ({ EventId: `e${i}` })),
    $metadata: {},
  }),
};

export async function benchDetection(): Promise<void> {
  const deployment = parseDeploymentConfig({ region: 'us-east-1', clusters: [{ name: 'bench' }], notifications: { slackWebhookSecret: 'unused' } });
  const rateMinutes = deployment.clusters[0]!.schedule.rateMinutes;
  const runtime = parseRuntimeConfig(samplerRuntimeConfig, { MESH_CERT_WATCH_CONFIG: JSON.stringify(samplerRuntimeInput(deployment, { ledgerTableName: 'ledger', historyBucketName: 'history' })) });
  const cluster = runtime.clusters[0]!;
  console.log(`\n## detection: tbot failures, default schedule (a sweep every ${rateMinutes} min), through sweepCluster + emulator + fake clock`);

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
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd());
  const worst = (list: number[]) => Math.max(...list).toFixed(1);
  const mean = (list: number[]) => (list.reduce((a, b) => a + b, 0) / list.length).toFixed(1);
  console.log(
    `time-to-detect, minutes after issuance: re-sent leaf ${mean(detected.resent!)} mean / ${worst(detected.resent!)} worst; ` +
      `pushes stopped ${mean(detected.stopped!)} / ${worst(detected.stopped!)}; without history ${mean(detected.none!)} / ${worst(detected.none!)} ` +
      `(ratio ${(Number(mean(detected.none!)) / Number(mean(detected.resent!))).toFixed(2)}× later)`,
  );
  console.log(`\n${renderDetection(simulateDetection(defaultDetectionSettings({ scheduleMinutes: rateMinutes })))}`);
}
