/**
 * `npm run bench [-- SECTION ...]`: the speed and memory goals, measured and printed with their
 * ratios (never asserted in unit tests). Sections, all by default:
 *   startup   `npx mesh-cert-watch --version/--help` vs `npx tsc --version`
 *   bundles   each Lambda bundle's size, largest packages and cold-start import time
 *   sweep     the sampler's sweep (esbuild bundle) at 500 / 2,000 / 5,000 pods (BENCH_SIZES)
 *   inspect   `inspect` of generated 25 MB and 100 MB full config_dumps (BENCH_DUMP_MB): time, peak RSS
 *   cli       the CLI's sweep as a process (json and table) at 500 / 5,000 pods (BENCH_CLI_SIZES),
 *             peak RSS, floor ratio, and the sequential kubectl loop (BENCH_KUBECTL_SAMPLE pods)
 *   detection time-to-detect of tbot's failures with the default schedule, with and without
 *             rotation history; false-positive rate on a jittered healthy population; the
 *             simulation's application restarts per day, watcher vs the 45-minute CronJob
 *   due       execs per sweep of a healthy 50,000-pod cluster over a simulated hour, with and
 *             without due-based sampling, and the detection of broken pods in both (BENCH_DUE_PODS)
 * Opt-in (not in the default run, name them):
 *   scale     sweepCluster over 20,000 and 50,000 emulated pods, log-normal exec latency
 *             (BENCH_SCALE_SIZES): several minutes on 2 cores
 */
import { benchBundles } from './bundles.bench.js';
import { benchCli } from './cli.bench.js';
import { benchDetection } from './detection.bench.js';
import { benchDueSampling } from './due.bench.js';
import { benchScale } from './scale.bench.js';
import { benchStartup } from './startup.js';
import { benchInspect } from './inspect.bench.js';
import { benchSamplerSweep } from './sweep.bench.js';

const SECTIONS: Record<string, () => Promise<void>> = {
  startup: () => benchStartup(),
  bundles: () => benchBundles(),
  sweep: () => benchSamplerSweep(),
  inspect: () => benchInspect(),
  cli: () => benchCli(),
  detection: () => benchDetection(),
  due: async () => void (await benchDueSampling()),
};

/** Named only: too long for the default run. */
const OPT_IN: Record<string, () => Promise<void>> = {
  scale: async () => void (await benchScale()),
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in SECTIONS) && !(name in OPT_IN));
if (unknown.length > 0) {
  console.error(`unknown bench section(s) ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}; opt-in: ${Object.keys(OPT_IN).join(', ')}`);
  process.exit(2);
}
const started = performance.now();
console.log(`mesh-cert-watch bench · ${new Date().toISOString()} · load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const name of requested.length > 0 ? requested : Object.keys(SECTIONS)) await (SECTIONS[name] ?? OPT_IN[name])!();
console.log(`\nbench finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
