/**
 * `mesh-cert-watch watch` against the Kubernetes API emulator (real client-node over HTTPS and
 * WebSocket exec) with a fake clock: `sleep` advances the clock and moves the scripted sidecars
 * on, so minutes of watching run in milliseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchCommand, type WatchRuntime } from '../../src/cli/watch-command.js';
import type { CliIo } from '../../src/cli/io.js';
import { colonSerial } from '../../src/core/judgement/history.js';
import { FakeClock } from '../../src/sandbox/emulator/fake-clock.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import type { IssuedLeaf } from '../../src/sandbox/emulator/pki.js';
import { createMeshPki, sidecarSecrets, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { runCli } from '../support/cli.js';

const T0 = new Date('2026-11-27T12:00:00.000Z');
const MINUTE = 60_000;

interface Sidecar {
  readonly namespace: string;
  readonly pod: string;
  readonly serviceAccount: string;
  issuedAt: Date;
  pushedAt: Date;
  leaf: IssuedLeaf | null;
  /** null: never renews, re-sends the same leaf every 20 min (the tbot bug). */
  renewEveryMinutes: number | null;
}

let emulator: KubeApiEmulator;
let pki: MeshPki;
let kubeconfig: string;
const sidecars: Record<string, Sidecar> = {};

async function serve(sidecar: Sidecar, now: Date): Promise<void> {
  let fresh = sidecar.leaf === null;
  for (;;) {
    const next = sidecar.pushedAt.getTime() + (sidecar.renewEveryMinutes ?? 20) * MINUTE;
    if (next > now.getTime()) break;
    sidecar.pushedAt = new Date(next);
    if (sidecar.renewEveryMinutes !== null) {
      sidecar.issuedAt = sidecar.pushedAt;
      fresh = true;
    }
  }
  const secrets = await sidecarSecrets(pki, {
    servedBy: 'tbot',
    namespace: sidecar.namespace,
    serviceAccount: sidecar.serviceAccount,
    issuedAt: sidecar.issuedAt,
    pushedAt: sidecar.pushedAt,
    lifetimeSeconds: 3600,
    ...(fresh ? {} : { leaf: sidecar.leaf! }),
  });
  sidecar.leaf = secrets.leaf;
  emulator.setProxyResponses(sidecar.namespace, sidecar.pod, secrets.responses);
}

/** A fake clock whose sleeps move every sidecar to the new instant. */
function fakeRuntime(clock: FakeClock): WatchRuntime & { sleeps: number[] } {
  return {
    sleeps: clock.sleeps,
    now: clock.date,
    sleep: async (ms) => {
      await clock.sleep(ms);
      for (const sidecar of Object.values(sidecars)) await serve(sidecar, clock.date());
    },
  };
}

async function watch(args: string[], clock: FakeClock): Promise<{ code: number; stdout: string; stderr: string; sleeps: number[] }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => '' };
  const runtime = fakeRuntime(clock);
  for (const sidecar of Object.values(sidecars)) await serve(sidecar, clock.date());
  const code = await watchCommand(['--kubeconfig', kubeconfig, ...args], io, runtime);
  return { code, stdout, stderr, sleeps: runtime.sleeps };
}

function reset(name: string, issuedMinutesAgo: number, clock: FakeClock, renewEveryMinutes: number | null = 20): Sidecar {
  const sidecar = sidecars[name]!;
  sidecar.issuedAt = new Date(clock.now() - issuedMinutesAgo * MINUTE);
  sidecar.pushedAt = sidecar.issuedAt;
  sidecar.leaf = null;
  sidecar.renewEveryMinutes = renewEveryMinutes;
  return sidecar;
}

beforeAll(async () => {
  emulator = await startKubeApiEmulator();
  pki = await createMeshPki('example.org');
  const dir = mkdtempSync(join(tmpdir(), 'mcw-watch-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, emulator.kubeconfigYaml('emulated-eks'));
  const mesh = new Mesh(emulator, { startTime: new Date(T0.getTime() - 600 * MINUTE) });
  mesh.addNamespace('shop');
  const add = (app: string, replicas: number) =>
    mesh.addDeployment('shop', app, { replicas }).pods.forEach((pod, i) => {
      sidecars[`${app}-${i}`] = { namespace: 'shop', pod: pod.metadata.name, serviceAccount: app, issuedAt: T0, pushedAt: T0, leaf: null, renewEveryMinutes: 20 };
    });
  add('carts', 2);
  add('orders', 1);
});

afterAll(async () => {
  await emulator.close();
});

describe('watch', () => {
  it('--until-rotation on one pod: prints its leaf, then the rotation in both serial forms, and exits 0', async () => {
    const clock = new FakeClock(T0.getTime());
    const carts = reset('carts-0', 18, clock);
    const before = await (async () => {
      await serve(carts, clock.date());
      return carts.leaf!.serialNumber.toUpperCase();
    })();
    const run = await watch([carts.pod, '-n', 'shop', '--until-rotation', '--interval', '1m'], clock);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`2026-11-27T12:00:00.000Z WATCHING 1 pod (pod shop/${carts.pod}) every 60s, until each rotates`);
    expect(lines[1]).toContain(`LEAF shop/${carts.pod} tbot serial ${colonSerial(before)} (${before}) issued 2026-11-27T11:42:00.000Z, renewal expected by 2026-11-27T12:02:00.000Z`);
    const after = carts.leaf!.serialNumber.toUpperCase();
    expect(lines[2]).toBe(
      `2026-11-27T12:02:00.000Z ROTATED shop/${carts.pod} tbot ${colonSerial(before)} (${before}) -> ${colonSerial(after)} (${after}) issued 2026-11-27T12:02:00.000Z, interval 20m`,
    );
    expect(lines[3]).toBe('2026-11-27T12:02:00.000Z OK every watched pod rotated (1)');
    expect(lines).toHaveLength(4);
    // Two samples a minute apart, and no real sleeping.
    expect(run.sleeps).toEqual([MINUTE, MINUTE]);
    expect(colonSerial(before)).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
  });

  it('--until-rotation exits 1 as soon as a pod misses its renewal: the push came with the old serial', async () => {
    const clock = new FakeClock(T0.getTime());
    const orders = reset('orders-0', 17, clock, null);
    const run = await watch(['-n', 'shop', '-l', 'app=orders', '--until-rotation', '--interval', '2m'], clock);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('2026-11-27T12:00:00.000Z WATCHING 1 pod (selector app=orders in namespace shop) every 2m, until each rotates');
    const serial = orders.leaf!.serialNumber.toUpperCase();
    expect(lines[2]).toBe(
      `2026-11-27T12:04:00.000Z STALE shop/${orders.pod} tbot sds-push-without-rotation serial ${colonSerial(serial)} (${serial}) ` +
        'renewal expected 2026-11-27T12:03:00.000Z, overdue 60s proven across sweeps: a push carried the old leaf',
    );
    expect(lines[3]).toBe(`2026-11-27T12:04:00.000Z FAILED overdue for renewal: shop/${orders.pod}`);
  });

  it('--duration bounds it; -o json prints one object per line with both serial forms', async () => {
    const clock = new FakeClock(T0.getTime());
    reset('carts-0', 5, clock);
    reset('carts-1', 12, clock);
    const run = await watch(['-n', 'shop', '-l', 'app=carts', '--interval', '5m', '--duration', '20m', '-o', 'json'], clock);
    expect(run.code).toBe(0);
    const records = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => r.type)).toEqual(['watching', 'leaf', 'leaf', 'rotation', 'rotation']);
    expect(run.sleeps).toEqual([5 * MINUTE, 5 * MINUTE, 5 * MINUTE, 5 * MINUTE]);
    const rotation = records.find((r) => r.type === 'rotation') as { previous: { serialNumber: string; serialNumberColons: string }; intervalSeconds: number; at: string };
    expect(rotation.previous.serialNumberColons).toBe(colonSerial(rotation.previous.serialNumber));
    expect(rotation.intervalSeconds).toBe(20 * 60);
    expect(rotation.at).toBe('2026-11-27T12:10:00.000Z');
  });

  it('--until-rotation with --duration shorter than the renewal: exits 1 naming the pods still waiting', async () => {
    const clock = new FakeClock(T0.getTime());
    const carts = reset('carts-0', 1, clock);
    const run = await watch([carts.pod, '-n', 'shop', '--until-rotation', '--interval', '1m', '--duration', '3m'], clock);
    expect(run.code).toBe(1);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(`2026-11-27T12:03:00.000Z FAILED --duration 3m ended before every pod rotated; waiting for: shop/${carts.pod}`);
  });

  it('refuses what it cannot watch (exit 2)', async () => {
    const clock = new FakeClock(T0.getTime());
    await expect(watch(['no-such-pod', '-n', 'shop', '--until-rotation'], clock)).rejects.toThrow(
      'POD: no Running injected pod matches pod shop/no-such-pod: nothing to watch',
    );
    void clock;
    const both = await runCli(['watch', 'a-pod', '-l', 'app=carts', '--kubeconfig', kubeconfig]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--selector: give a POD or a selector, not both/);
    const badInterval = await runCli(['watch', '-n', 'shop', '--interval', 'often', '--kubeconfig', kubeconfig]);
    expect(badInterval.code).toBe(2);
    expect(badInterval.stderr).toMatch(/--interval: invalid threshold "often"/);
    const help = await runCli(['help', 'watch']);
    expect(help.stdout).toMatch(/^Usage: mesh-cert-watch watch \[POD\] \[options\]/);
  });
});
