/**
 * `sweep --history FILE` end to end: the real CLI and client-node against the Kubernetes API
 * emulator, two sweeps apart in (evaluation) time, tbot re-sending its cached SVID at the
 * renewal point on one pod and rotating on the others.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHistorySnapshot } from '../../src/core/judgement/history.js';
import type { PodReport, SweepReport } from '../../src/core/model/types.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki, sidecarSecrets, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import type { IssuedLeaf } from '../../src/sandbox/emulator/pki.js';
import { runCli } from '../support/cli.js';
import { reportSchemaProblems } from '../support/report-schema.js';

const T0 = new Date('2026-11-27T12:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
const HOUR = 3600;

describe('sweep --history', () => {
  let emulator: KubeApiEmulator;
  let pki: MeshPki;
  let dir: string;
  let kubeconfig: string;
  let historyFile: string;
  const pods: Record<string, string> = {};
  const leaves: Record<string, IssuedLeaf> = {};
  let first: SweepReport;
  let second: SweepReport;
  const byPrefix = (report: SweepReport, prefix: string): PodReport => report.pods.find((p) => p.name.startsWith(prefix))!;

  async function serve(app: string, issuedAt: Date, pushedAt: Date, reuse = false): Promise<void> {
    const secrets = await sidecarSecrets(pki, {
      servedBy: 'tbot',
      namespace: 'shop',
      serviceAccount: app,
      issuedAt,
      pushedAt,
      lifetimeSeconds: HOUR,
      ...(reuse ? { leaf: leaves[app]! } : {}),
    });
    leaves[app] = secrets.leaf!;
    emulator.setProxyResponses('shop', pods[app]!, secrets.responses);
  }

  const sweep = (now: Date, ...extra: string[]) =>
    runCli(['sweep', '--kubeconfig', kubeconfig, '--output', 'json', '--now', now.toISOString(), '--history', historyFile, ...extra]);

  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
    pki = await createMeshPki('example.org');
    dir = mkdtempSync(join(tmpdir(), 'mcw-history-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, emulator.kubeconfigYaml('emulated-eks'));
    historyFile = join(dir, 'history.json');
    const mesh = new Mesh(emulator, { startTime: at(-600) });
    mesh.addNamespace('shop');
    for (const app of ['carts', 'orders', 'payment']) pods[app] = mesh.addDeployment('shop', app).pods[0]!.metadata!.name!;

    // Sweep 1 at T0+18m: all three leaves issued at T0 (orders without last_updated in its dump is not needed: version_info moves).
    for (const app of ['carts', 'orders', 'payment']) await serve(app, T0, T0);
    const run1 = await sweep(at(18));
    expect(run1.stderr).toBe('');
    expect(run1.code).toBe(0);
    first = JSON.parse(run1.stdout) as SweepReport;

    // tbot's renewal at T0+20m: carts and payment get a new leaf; orders gets its old leaf again.
    await serve('carts', at(20), at(20));
    await serve('payment', at(20.5), at(20.5));
    await serve('orders', T0, at(20), true);
    const run2 = await sweep(at(21));
    expect(run2.stderr).toBe('');
    second = JSON.parse(run2.stdout) as SweepReport;
    // Both reports (the second with rotations and rotation fields) are valid against the contract.
    expect([reportSchemaProblems(first), reportSchemaProblems(second)]).toEqual([[], []]);
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('starts a new history when FILE does not exist: no previous, rotation judged, no rotation counted', () => {
    expect(first.summary).toMatchObject({ sampled: 3, healthy: 3 });
    const carts = byPrefix(first, 'carts-');
    expect(carts.previous).toBeUndefined();
    expect(carts.rotatedSinceLastSweep).toBeUndefined();
    expect(carts.rotation).toEqual({ expectedRenewalAt: at(20).toISOString(), overdueSeconds: 0, provenAcrossSweeps: false });
    expect(first.rotations).toMatchObject({ observed: 0, compared: 0, overdue: 0, provenAcrossSweeps: 0 });
  });

  it('proves the missed renewal at the first sweep after it: the push came, the serial did not change', () => {
    const orders = byPrefix(second, 'orders-');
    expect(orders.state).toBe('stale');
    expect(orders.findings).toEqual(['sds-push-without-rotation']);
    expect(orders.rotatedSinceLastSweep).toBe(false);
    expect(orders.rotation).toEqual({ expectedRenewalAt: at(20).toISOString(), overdueSeconds: 60, provenAcrossSweeps: true });
    expect(orders.previous).toMatchObject({
      serialNumber: byPrefix(first, 'orders-').certificate!.serialNumber,
      notBefore: T0.toISOString(),
      observedAt: at(18).toISOString(),
    });
  });

  it('counts the rotations and their interval per source', () => {
    expect(byPrefix(second, 'carts-')).toMatchObject({ state: 'healthy', rotatedSinceLastSweep: true });
    expect(second.rotations).toEqual({
      observed: 2,
      compared: 3,
      overdue: 1,
      provenAcrossSweeps: 1,
      bySource: { tbot: { observed: 2, compared: 3, overdue: 1, intervalSecondsP50: 1215, intervalSecondsMax: 1230 } },
    });
  });

  it('rewrites FILE atomically with one observation per pod, and no leftover temporary file', () => {
    const snapshot = parseHistorySnapshot(JSON.parse(readFileSync(historyFile, 'utf8')));
    expect(snapshot.cluster).toBe('emulated-eks');
    expect(snapshot.sweepId).toBe(second.sweepId);
    expect(snapshot.pods).toHaveLength(3);
    expect(snapshot.pods.find((p) => p.name.startsWith('carts-'))!.notBefore).toBe(at(20).toISOString());
    expect(readdirSync(dir).sort()).toEqual(['history.json', 'kubeconfig']);
  });

  it('prints the rotations line in the table', async () => {
    const table = await runCli(['sweep', '--kubeconfig', kubeconfig, '--now', at(22).toISOString(), '--history', historyFile, '--renewal-slack', '30s']);
    expect(table.stdout).toMatch(/^rotations: 0 of 3 pods rotated since the last sweep \(tbot 0\); overdue 1, proven across sweeps 0$/m);
  });

  it('refuses a file that is not a history, the history of another cluster, and renewal flags without --history (exit 2)', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format":"something else"}');
    const refused = await runCli(['sweep', '--kubeconfig', kubeconfig, '--history', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--history: .*bad\.json is not a mesh-cert-watch rotation history \("format" is not "mesh-cert-watch\/rotation-history"\)/);
    const other = await runCli(['sweep', '--kubeconfig', kubeconfig, '--cluster', 'prod', '--history', historyFile]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/holds the history of cluster "emulated-eks", not "prod"/);
    const noHistory = await runCli(['sweep', '--kubeconfig', kubeconfig, '--renewal-interval', '30m']);
    expect(noHistory.code).toBe(2);
    expect(noHistory.stderr).toMatch(/need --history FILE/);
    const badSlack = await runCli(['sweep', '--kubeconfig', kubeconfig, '--history', historyFile, '--renewal-slack', 'soon']);
    expect(badSlack.code).toBe(2);
    expect(badSlack.stderr).toMatch(/--renewal-slack: invalid threshold "soon"/);
    expect(existsSync(bad)).toBe(true);
  });

  it('--max-observation-age: execs only into the pods that are due, judges the others from FILE (sampled: false)', async () => {
    // FILE is from the 12:22 sweep: carts (leaf 12:20) and payment (12:20:30) healthy, orders stale.
    const execsBefore = emulator.execs.length;
    const run = await sweep(at(25), '--max-observation-age', '20m');
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as SweepReport;
    expect(emulator.execs.slice(execsBefore).map((e) => e.pod)).toEqual([pods.orders]);
    expect(report.summary).toMatchObject({ sampled: 3, fromHistory: 2, healthy: 2, stale: 1 });
    const carts = byPrefix(report, 'carts-');
    expect(carts).toMatchObject({ state: 'healthy', sampled: false, sampledAt: at(22).toISOString() });
    expect(carts.certificate!.ageSeconds).toBe(5 * 60);
    expect(byPrefix(report, 'orders-').sampled).toBeUndefined();
    // The observation a pod was judged from stays in FILE with its own time.
    const snapshot = parseHistorySnapshot(JSON.parse(readFileSync(historyFile, 'utf8')));
    expect(snapshot.pods.find((p) => p.name.startsWith('carts-'))!.observedAt).toBe(at(22).toISOString());
    expect(snapshot.pods.find((p) => p.name.startsWith('orders-'))!.observedAt).toBe(at(25).toISOString());
    const table = await runCli(['sweep', '--kubeconfig', kubeconfig, '--now', at(26).toISOString(), '--history', historyFile, '--max-observation-age', '20m']);
    expect(table.stdout).toMatch(/^sampled 3 \(2 not due: judged from their last observation\), skipped 0: /m);
    const refused = await runCli(['sweep', '--kubeconfig', kubeconfig, '--max-observation-age', '20m']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--max-observation-age: needs --history FILE/);
  });
});
