/**
 * `sweep`'s streamed report (json / ndjson / table / --stream), `-l/--selector` and the live
 * progress line, through the real CLI against the Kubernetes API emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../../src/cli/main.js';
import { progressText } from '../../src/cli/progress.js';
import type { SweepReport } from '../../src/core/model/types.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { ACTIVE_SECRETS_PATH, createMeshPki, sidecarSecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { runCli } from '../support/cli.js';

const NOW = new Date('2026-11-27T12:00:00.000Z');
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);
const HOUR = 3600;

describe('sweep output, selector and progress', () => {
  let emulator: KubeApiEmulator;
  let kubeconfig: string;
  const base = (): string[] => ['sweep', '--kubeconfig', kubeconfig, '--now', NOW.toISOString(), '--timeout', '5s'];

  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
    const dir = mkdtempSync(join(tmpdir(), 'mcw-stream-'));
    kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, emulator.kubeconfigYaml('emulated-eks'));
    const pki = await createMeshPki('example.org');
    const mesh = new Mesh(emulator, { startTime: minutesAgo(600) });
    mesh.addNamespace('shop');
    const scripts: [string, number, Omit<Parameters<typeof sidecarSecrets>[1], 'namespace'>][] = [
      ['carts', 3, { servedBy: 'tbot', serviceAccount: 'carts', issuedAt: minutesAgo(10), lifetimeSeconds: HOUR }],
      ['orders', 1, { servedBy: 'tbot', serviceAccount: 'orders', issuedAt: minutesAgo(40), pushedAt: minutesAgo(2), lifetimeSeconds: HOUR }],
      ['payment', 1, { servedBy: 'istio-agent', serviceAccount: 'payment', issuedAt: minutesAgo(50), lifetimeSeconds: HOUR }],
      ['db', 1, { servedBy: 'tbot', serviceAccount: 'db', issuedAt: minutesAgo(70), lifetimeSeconds: HOUR }],
    ];
    for (const [name, replicas, cert] of scripts) {
      const workload = mesh.addDeployment('shop', name, { replicas });
      for (const pod of workload.pods) emulator.setProxyResponses('shop', pod.metadata!.name!, (await sidecarSecrets(pki, { namespace: 'shop', ...cert })).responses);
    }
    const queue = mesh.addDeployment('shop', 'queue');
    emulator.setProxyResponses('shop', queue.pods[0]!.metadata!.name!, { [ACTIVE_SECRETS_PATH]: { stderr: 'connection refused\n', exitCode: 1 } });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('--output json is one JSON document: sweep facts, pods as judged, then finishedAt, summary and partial', async () => {
    const run = await runCli([...base(), '--output', 'json']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(run.stdout) as SweepReport;
    expect(Object.keys(report)).toEqual(['cluster', 'sweepId', 'startedAt', 'now', 'thresholds', 'pods', 'finishedAt', 'summary', 'partial', 'agents']);
    expect(report.summary).toEqual({ sampled: 7, skipped: 0, healthy: 3, stale: 1, expiring: 1, expired: 1, missing: 0, unreachable: 1 });
    expect(report.pods).toHaveLength(7);
    expect(report.now).toBe(NOW.toISOString());
    expect(Date.parse(report.finishedAt)).toBeGreaterThanOrEqual(Date.parse(report.startedAt));
    // Pretty-printed like before: two-space indent, pods one level deeper.
    expect(run.stdout).toMatch(/^\{\n {2}"cluster": "emulated-eks",\n/);
    expect(run.stdout).toMatch(/\n {2}"pods": \[\n {4}\{\n {6}"namespace": "shop",/);
    expect(run.stdout.endsWith('\n}\n')).toBe(true);
  });

  it('--output ndjson writes a sweep record, one pod record per pod, and a summary record last', async () => {
    const run = await runCli([...base(), '--output', 'ndjson']);
    expect(run.code).toBe(0);
    const records = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { record: string } & Record<string, unknown>);
    expect(records.map((r) => r.record)).toEqual(['sweep', ...Array<string>(7).fill('pod'), 'summary']);
    expect(records[0]).toMatchObject({ cluster: 'emulated-eks', now: NOW.toISOString() });
    expect(records[1]).toMatchObject({ namespace: 'shop', uid: expect.any(String), state: expect.any(String) });
    expect(records.at(-1)).toMatchObject({ summary: { sampled: 7, unreachable: 1 }, partial: false });
  });

  it('the table lists worst first, then the error lines and the summary, and leaves no temporary file', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('mesh-cert-watch-sweep-')).length;
    const run = await runCli(base());
    expect(run.code).toBe(0);
    const [table, errors, summary] = run.stdout.split('\n\n');
    const lines = table!.split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE {3}NAME +WORKLOAD +STATE +SOURCE/);
    expect(lines.slice(1).map((l) => l.split(/ {3,}/)[3])).toEqual(['expired', 'expiring', 'unreachable', 'stale', 'healthy', 'healthy', 'healthy']);
    // Columns padded to the widest cell, as before.
    const stateColumn = lines[0]!.indexOf('STATE');
    for (const line of lines.slice(1)) expect(line.slice(stateColumn)).toMatch(/^(expired|expiring|unreachable|stale|healthy) /);
    expect(errors).toMatch(/^error shop\/queue-\S+: /);
    expect(summary).toBe('sampled 7, skipped 0: healthy 3, stale 1, expiring 1, expired 1, missing 0, unreachable 1\n');
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('mesh-cert-watch-sweep-')).length).toBe(before);
  });

  it('--stream prints the header, then rows as judged, then the summary', async () => {
    const run = await runCli([...base(), '--stream']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE {3}NAME/);
    expect(lines.slice(1, 8).every((l) => l.startsWith('shop '))).toBe(true);
    expect(run.stdout).toContain('\n\nerror shop/queue-');
    expect(run.stdout.endsWith('sampled 7, skipped 0: healthy 3, stale 1, expiring 1, expired 1, missing 0, unreachable 1\n')).toBe(true);
    expect((await runCli([...base(), '--stream', '-o', 'json'])).code).toBe(2);
  });

  it('-l/--selector filters pods by label on the API server, like kubectl', async () => {
    emulator.requests.clear();
    const run = await runCli([...base(), '-o', 'json', '-l', 'app in (carts,db)']);
    const report = JSON.parse(run.stdout) as SweepReport;
    expect(report.summary).toMatchObject({ sampled: 4, healthy: 3, expired: 1 });
    // The tbot agents are listed with their own selector (teleport-system, app=tbot): not the user's pods.
    const lists = emulator.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/pods') && !r.path.includes('/namespaces/teleport-system/'));
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) expect(list.query.labelSelector).toBe('app in (carts,db)');
    expect(JSON.parse((await runCli([...base(), '-o', 'json', '--selector', 'app!=carts'])).stdout).summary.sampled).toBe(4);
    const bad = await runCli([...base(), '-l', 'app in carts']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/unable to parse requirement/);
  });

  it('--max-exec-rate paces exec starts', async () => {
    const before = emulator.execs.length;
    const run = await runCli([...base(), '-o', 'ndjson', '--max-exec-rate', '10']);
    expect(run.code).toBe(0);
    const starts = emulator.execs.slice(before).map((e) => e.startedAt.getTime()).sort((a, b) => a - b);
    expect(starts).toHaveLength(7);
    // 7 starts at 10 a second: the last at least ~0.6 s after the first.
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(550);
    expect((await runCli([...base(), '--max-exec-rate', '0'])).code).toBe(2);
  });

  describe('progress line', () => {
    async function withTerminal(args: string[], env: Record<string, string> = {}, stdoutTerminal = false) {
      let stdout = '';
      let stderr = '';
      /** Whether the progress line is on screen at each stdout write. */
      let lineShown = false;
      const shownAtRows: boolean[] = [];
      const io: CliIo = {
        stdout: (t) => {
          stdout += t;
          shownAtRows.push(lineShown);
        },
        stderr: (t) => {
          stderr += t;
          lineShown = !t.endsWith('\r\u001b[2K');
        },
        readStdin: async () => '',
        // A 1 ms refresh: the 7-pod sweep takes a few ms on an idle machine, less than the default 100 ms.
        stderrTerminal: { columns: 120, refreshMs: 1 },
        stdoutTerminal,
        env,
      };
      const code = await main(args, io);
      return { code, stdout, stderr, shownAtRows };
    }

    it('draws sampled/total, rate, elapsed, ETA and errors on a terminal, and erases itself at the end', async () => {
      const run = await withTerminal([...base(), '-o', 'json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).summary.sampled).toBe(7);
      // eslint-disable-next-line no-control-regex
      expect(run.stderr).toMatch(/\r\u001b\[2K\u001b\[2msweep \d+\/~?[\d?]+ pods · \d+\/s · \d+\.\ds/);
      expect(run.stderr).toMatch(/sweep \d\/7 pods · \d+\/s · \d\.\ds · ETA \d+\.\ds · [01] errors?/);
      expect(run.stderr.endsWith('\r\u001b[2K')).toBe(true);
    });

    it('uses no colour with NO_COLOR, and shows nothing with --quiet, under CI, or for TERM=dumb', async () => {
      const plain = await withTerminal(base(), { NO_COLOR: '1' });
      expect(plain.stderr).toMatch(/sweep \d\/7 pods/);
      expect(plain.stderr).not.toContain('\u001b[2m');
      expect(plain.stderr).not.toContain('\u001b[0m');
      for (const [args, env] of [[['--quiet'], {}], [['-q'], {}], [[], { CI: 'true' }], [[], { TERM: 'dumb' }]] as const) {
        const run = await withTerminal([...base(), ...args], env);
        expect(run.code).toBe(0);
        expect(run.stderr).toBe('');
      }
    });

    it('erases the line before each streamed row when stdout is the same terminal', async () => {
      const run = await withTerminal([...base(), '--stream'], {}, true);
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n').filter((l) => l.startsWith('shop '))).toHaveLength(7);
      expect(run.stderr).toMatch(/sweep \d\/7 pods/);
      expect(run.shownAtRows.length).toBeGreaterThan(7);
      expect(run.shownAtRows.every((shown) => !shown)).toBe(true);
    });

    it('formats the estimate while the list is incomplete and the ETA from the rate', () => {
      expect(progressText({ judged: 100, errors: 0, expected: 5000, expectedFinal: false }, 2000)).toBe('sweep 100/~5,000 pods · 50/s · 2.0s · ETA 98s · 0 errors');
      expect(progressText({ judged: 0, errors: 0, expected: null, expectedFinal: false }, 0)).toBe('sweep 0/? pods · 0/s · 0.0s · 0 errors');
      expect(progressText({ judged: 5000, errors: 1, expected: 5000, expectedFinal: true }, 18_000)).toBe('sweep 5,000/5,000 pods · 278/s · 18s · ETA 0.0s · 1 error');
    });
  });
});

describe('exec start pacing', () => {
  it('spaces starts evenly at the given rate, whatever the concurrency', async () => {
    const { startPacer } = await import('../../src/core/judgement/sweep.js');
    let now = 0;
    const waits: number[] = [];
    const pace = startPacer(50, () => new Date(now), async (ms) => {
      waits.push(ms);
    });
    await Promise.all([pace(), pace(), pace(), pace()]);
    expect(waits).toEqual([20, 40, 60]);
    now = 1000;
    await pace();
    expect(waits).toHaveLength(3);
  });
});
