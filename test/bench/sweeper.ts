/** Benchmark helper process: one sweep against a kubeconfig; prints its figures as JSON. */
import { KubeClient, loadKubeConfig } from '../../src/kube/kube-client.js';
import { kubeSweepSource } from '../../src/kube/kube-sweep.js';
import { runSweep } from '../../src/core/judgement/sweep.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';

const [kubeconfig, concurrencyText] = process.argv.slice(2);
const concurrency = Number(concurrencyText ?? 32);
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
const client = new KubeClient(loadKubeConfig({ kubeconfig: kubeconfig! }));
const started = performance.now();
const cpuBefore = process.cpuUsage();
const report = await runSweep(kubeSweepSource(client), { cluster: 'bench', sweepId: 'bench', thresholds: DEFAULT_THRESHOLDS, concurrency });
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
// What the sweep keeps (the report) once garbage is gone; run with --expose-gc.
(globalThis as { gc?: () => void }).gc?.();
const retainedHeapBytes = process.memoryUsage().heapUsed;
process.stdout.write(`${JSON.stringify({ wallMs, sampled: report.summary.sampled, healthy: report.summary.healthy, unreachable: report.summary.unreachable, peakRssBytes: peakRss, cpuMs, retainedHeapBytes, reportPods: report.pods.length })}\n`);
