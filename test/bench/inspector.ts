/**
 * Benchmark helper process: judges one config_dump file and prints its figures as JSON.
 * `stream`: the `inspect` command itself (streamed, secrets section only). `whole`: the file read
 * into one string and JSON.parse'd whole, what a raised input limit alone would cost. `idle`: the
 * same process doing nothing, the floor of the RSS figures.
 */
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import { classifySecrets } from '../../src/core/judgement/classify.js';
import { parseSecretsDump } from '../../src/core/judgement/envoy-secrets.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';

const [mode, file, now] = process.argv.slice(2);
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 5);
const started = performance.now();
let state = 'none';
if (mode === 'stream') {
  let out = '';
  const code = await main(['inspect', file!, '--now', now!, '-o', 'json'], { stdout: (t) => void (out += t), stderr: (t) => void process.stderr.write(t), readStdin: async () => '' });
  if (code !== 0) throw new Error(`inspect exited ${code}`);
  state = (JSON.parse(out) as { state: string }).state;
} else if (mode === 'whole') {
  const text = readFileSync(file!, 'utf8');
  state = classifySecrets(parseSecretsDump(text, { maxBytes: Number.MAX_SAFE_INTEGER }), { now: new Date(now!), thresholds: DEFAULT_THRESHOLDS }).state;
}
const wallMs = performance.now() - started;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
process.stdout.write(`${JSON.stringify({ wallMs, peakRssBytes: peakRss, state })}\n`);
