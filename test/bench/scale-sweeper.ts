/**
 * Benchmark helper process for `npm run bench -- scale`: the sampler's engine as the Lambda runs
 * it (sweepCluster: pod list, exec sampling, ledger diff, events, history snapshot) against a
 * kubeconfig, twice: a first sweep (every pod new: every pod sampled) and, with the history it
 * wrote, a second one 5 minutes later on its clock (due-based sampling). The ledger and the
 * history are in memory, EventBridge accepts everything. Prints one JSON line per sweep: wall
 * time, execs, CPU, peak heap and RSS (sampled every 50 ms).
 */
import { parseDeploymentConfig } from '../../src/config/deployment.js';
import { samplerRuntimeInput } from '../../src/config/runtime-configs.js';
import { parseRuntimeConfig, samplerRuntimeConfig } from '../../src/config/runtime.js';
import { KubeClient, loadKubeConfig } from '../../src/kube/kube-client.js';
import { MemoryHistoryStore } from '../../src/sandbox/emulator/memory-history.js';
import { sweepCluster } from '../../src/sampler/sweep-cluster.js';
import type { EventSink } from '../../src/ports/events.js';
import { MemoryLedger } from '../../src/sandbox/emulator/memory-ledger.js';

const [kubeconfig, concurrencyText, rateText] = process.argv.slice(2);
const concurrency = Number(concurrencyText ?? 64);
const maxExecStartsPerSecond = Number(rateText ?? 0);

const deployment = parseDeploymentConfig({ region: 'us-east-1', clusters: [{ name: 'bench', concurrency }], notifications: { slackWebhookSecret: 'unused' } });
const runtime = parseRuntimeConfig(samplerRuntimeConfig, {
  MESH_CERT_WATCH_CONFIG: JSON.stringify(samplerRuntimeInput(deployment, { ledgerTableName: 'ledger', historyBucketName: 'history' })),
});
const cluster = runtime.clusters[0]!;
const history = new MemoryHistoryStore();
const ledger = new MemoryLedger();
/** Accepts every event (EventBridge is not what is measured). */
const acceptAll: EventSink = { publish: async (drafts) => ({ published: drafts.length, failed: [] }) };
const client = new KubeClient(loadKubeConfig({ kubeconfig: kubeconfig! }));
let offsetMs = 0;
const clock = (): Date => new Date(Date.now() + offsetMs);

let firstStartedMs = 0;
for (const sweep of [1, 2, 3]) {
  // Sweep 2 runs 5 minutes after sweep 1 started on the sweeps' clock, however long sweep 1 took
  // on a loaded machine (the emulator's leaves age on the wall clock). Sweep 3 runs 30 minutes
  // after it: no leaf was renewed (an issuer outage), every pod is past its renewal point and its
  // slack, so every pod is sampled and stale: the largest sweep there is, the one to size for.
  if (sweep === 1) firstStartedMs = Date.now();
  else offsetMs = firstStartedMs + (sweep === 2 ? 5 : 30) * 60_000 - Date.now();
  // The store keeps only the latest snapshot's text, as S3 would: the Lambda holds a snapshot's text
  // only while it reads or writes it.
  history.saved.splice(0, history.saved.length - 1);
  (globalThis as { gc?: () => void }).gc?.();
  let peakHeap = 0;
  let peakRss = 0;
  const probe = setInterval(() => {
    const usage = process.memoryUsage();
    peakHeap = Math.max(peakHeap, usage.heapUsed);
    peakRss = Math.max(peakRss, usage.rss);
  }, 50);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcome = await sweepCluster(
    { cluster, sweepId: `bench-${sweep}` },
    // As the Lambda runs it: only the reports of pods with events are kept.
    { kubeClientFor: async () => client, ledger, history, events: acceptAll, clock, maxExecStartsPerSecond, keepEveryPod: false },
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(probe);
  const usage = process.memoryUsage();
  const summary = outcome.report!.summary;
  process.stdout.write(
    `${JSON.stringify({
      sweep,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      pods: summary.sampled,
      execs: summary.sampled - (summary.fromHistory ?? 0),
      healthy: summary.healthy,
      unreachable: summary.unreachable,
      partial: outcome.report!.partial,
      peakHeapBytes: Math.max(peakHeap, usage.heapUsed),
      peakRssBytes: Math.max(peakRss, usage.rss),
      snapshotBytes: history.saved.at(-1)?.text.length ?? 0,
    })}\n`,
  );
}
process.exit(0);
