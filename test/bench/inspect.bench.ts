/**
 * `npm run bench -- inspect`: `inspect` of full config_dumps of a mesh without Sidecar scoping,
 * 25 MB and 100 MB, generated into a temporary directory. Prints wall time, throughput and peak
 * RSS of the streamed `inspect`, next to reading the file whole and JSON.parse-ing it, and the
 * RSS of an idle process (the same bundle, loaded) as the floor. Goals: peak RSS flat in the dump
 * size (≤ 1.25× from 25 to 100 MB) and < 32 MB above the idle process.
 * Each run is a fresh process running an esbuild bundle (as the CLI ships, without tsx).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIntermediateCa, createRootCa, issueLeaf } from '../../src/sandbox/emulator/pki.js';
import { agentVersionInfo } from '../../src/sandbox/emulator/envoy-dump.js';
import { writeLargeConfigDump } from '../support/large-config-dump.js';
import { bundleForBench } from './sweep.bench.js';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
export async function benchInspect(): Promise<void> {
  const sizesMb = (process.env.BENCH_DUMP_MB ?? '25,100').split(',').map(Number);
  const bundle = fileURLToPath(new URL('../../.cache/bench/inspector.mjs', import.meta.url));
  await bundleForBench(here('./inspector.ts'), bundle);

  interface Figures {
    wallMs: number;
    peakRssBytes: number;
    state: string;
  }

  async function run(mode: string, file: string, now: string): Promise<Figures> {
    const child = spawn(process.execPath, [bundle, mode, file, now], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number];
    if (code !== 0) throw new Error(`inspector ${mode} exited ${code}`);
    return JSON.parse(out) as Figures;
  }

  const dir = mkdtempSync(join(tmpdir(), 'mcw-bench-dump-'));
  const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
  try {
    const notBefore = new Date();
    const root = await createRootCa('example.org');
    const intermediate = await createIntermediateCa(root, 'bench intermediate');
    const leaf = await issueLeaf(intermediate, { notBefore, notAfter: new Date(notBefore.getTime() + 3_600_000), spiffeId: 'spiffe://example.org/ns/shop/sa/carts' });
    const now = new Date(notBefore.getTime() + 600_000).toISOString();
    const rows: string[][] = [['DUMP', 'CLUSTERS', 'MODE', 'WALL', 'MB/S', 'PEAK RSS', 'STATE']];
    const streamRss: number[] = [];
    let idleRss = 0;
    const ratios: string[] = [];
    for (const sizeMb of sizesMb) {
      const file = join(dir, `config_dump-${sizeMb}.json`);
      const { bytes, clusters } = await writeLargeConfigDump(file, sizeMb * 2 ** 20, {
        active: [
          { name: 'default', versionInfo: agentVersionInfo(notBefore, 3), lastUpdated: notBefore, chainPem: `${leaf.certificatePem}${intermediate.certificatePem}` },
          { name: 'ROOTCA', versionInfo: agentVersionInfo(notBefore, 4), rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } },
        ],
      });
      const figures: Record<string, Figures> = {};
      for (const mode of ['idle', 'stream', 'whole']) {
        const f = await run(mode, file, now);
        figures[mode] = f;
        rows.push([mb(bytes), String(clusters), mode, `${(f.wallMs / 1000).toFixed(2)} s`, mode === 'idle' ? '-' : (bytes / 2 ** 20 / (f.wallMs / 1000)).toFixed(0), mb(f.peakRssBytes), f.state]);
      }
      streamRss.push(figures.stream!.peakRssBytes);
      idleRss = Math.max(idleRss, figures.idle!.peakRssBytes);
      ratios.push(
        `${mb(bytes)}: streamed inspect ${((figures.stream!.peakRssBytes - figures.idle!.peakRssBytes) / 2 ** 20).toFixed(0)} MB above idle vs ` +
          `${((figures.whole!.peakRssBytes - figures.idle!.peakRssBytes) / 2 ** 20).toFixed(0)} MB for a whole JSON.parse ` +
          `(${(figures.whole!.peakRssBytes / figures.stream!.peakRssBytes).toFixed(2)}× the RSS), ${(figures.whole!.wallMs / figures.stream!.wallMs).toFixed(2)}× its time`,
      );
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(`\ninspect of full config_dumps (mesh without Sidecar scoping)\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n')}`);
    const peak = Math.max(...streamRss);
    const aboveIdle = peak - idleRss;
    const flat = streamRss.at(-1)! / streamRss[0]!;
    const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
    console.log(
      [
        '',
        ...ratios,
        `streamed inspect peak RSS at most ${mb(peak)}, ${mb(aboveIdle)} above the idle process (${mb(idleRss)}; goal < 32 MB above idle: ${verdict(aboveIdle < 32 * 2 ** 20)}); ` +
          `${sizesMb.at(-1)} vs ${sizesMb[0]} MB dump: ${flat.toFixed(2)}× RSS (goal flat, ≤ 1.25×: ${verdict(flat <= 1.25)})`,
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
