import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Exec, KubeConfig } from '@kubernetes/client-node';
import { startKubeApiEmulator, type ExecRequest, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { ENVOY_ADMIN_NOT_FOUND } from '../../src/sandbox/emulator/kube-exec.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { resourceSecretsDump } from '../../src/sandbox/emulator/envoy-dump.js';
import { closed, Collector, startExec } from './helpers.js';

const DUMP_PATH = 'config_dump?resource=dynamic_active_secrets';
const PILOT_AGENT = ['pilot-agent', 'request', 'GET', DUMP_PATH];

/** > 64 KiB of distinct bytes, so a lost or reordered 16 KiB frame would show. */
function largePayload(): Buffer {
  const lines = Array.from({ length: 4000 }, (_, i) => `line ${String(i).padStart(5, '0')} ${'x'.repeat(40)}\n`);
  return Buffer.from(lines.join(''));
}

describe('pods/exec over WebSocket (v5 negotiated)', () => {
  let emulator: KubeApiEmulator;
  let kc: KubeConfig;
  let pod: string;
  let nativePod: string;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
    const mesh = new Mesh(emulator);
    pod = mesh.addDeployment('shop', 'carts').pods[0]!.metadata.name;
    nativePod = mesh.addDeployment('shop', 'native', { nativeSidecar: true }).pods[0]!.metadata.name;
    mesh.addDeployment('shop', 'starting', { podPhase: 'Pending' });
    kc = emulator.kubeConfig();
  });

  afterAll(async () => {
    await emulator.close();
  });

  beforeEach(() => {
    emulator.setExecHandler(undefined);
    emulator.requests.clear();
  });

  it('resolves exec() when the socket opens, streams > 64 KiB of stdout, then sends the status', async () => {
    const payload = largePayload();
    expect(payload.length).toBeGreaterThan(64 * 1024);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: ExecRequest[] = [];
    emulator.setExecHandler(async (request) => {
      seen.push(request);
      await gate; // the command "runs" until the test lets it finish
      return { stdout: payload };
    });

    const exec = await startExec(kc, 'shop', pod, 'istio-proxy', PILOT_AGENT);
    expect(exec.socket.protocol).toBe('v5.channel.k8s.io');
    expect(exec.statusSeen()).toBe(false); // exec() resolved on open; the command has not finished
    release();

    expect(await exec.status).toEqual({ metadata: {}, status: 'Success' });
    expect((await exec.stdout.finished).equals(payload)).toBe(true);
    expect(seen[0]).toMatchObject({ namespace: 'shop', pod, container: 'istio-proxy', command: PILOT_AGENT, protocol: 'v5.channel.k8s.io' });
    expect(emulator.requests[0]).toMatchObject({
      method: 'GET',
      path: `/api/v1/namespaces/shop/pods/${pod}/exec`,
      query: { command: PILOT_AGENT, container: 'istio-proxy', stdout: 'true', stderr: 'true', stdin: 'false', tty: 'false' },
      status: 101,
    });
  });

  it('reports a non-zero exit as the NonZeroExitCode status', async () => {
    emulator.setExecHandler(() => ({ stderr: 'Error: connection refused\n', exitCode: 7 }));
    const exec = await startExec(kc, 'shop', pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'ready']);
    expect(await exec.status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [pilot-agent request GET ready], exit code 7',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    });
    expect((await exec.stderr.finished).toString()).toBe('Error: connection refused\n');
  });

  it("keeps a 'hang' exec open until the client closes its socket", async () => {
    emulator.setExecHandler(() => 'hang');
    const exec = await startExec(kc, 'shop', pod, 'istio-proxy', PILOT_AGENT);
    const record = emulator.execs[emulator.execs.length - 1]!;
    expect(record.outcome).toBe('running');
    expect(emulator.activeExecs()).toBe(1);

    exec.socket.close();
    expect(await record.done).toBe('client-closed');
    expect(emulator.activeExecs()).toBe(0);
    expect(exec.statusSeen()).toBe(false);
  });

  it('answers pilot-agent from scripted Envoy admin responses, including the exit-0 404 text', async () => {
    const dump = JSON.stringify(resourceSecretsDump([{ name: 'default', versionInfo: '2025-03-01T10:00:00Z/1' }]));
    emulator.setProxyResponses('shop', nativePod, { [DUMP_PATH]: dump });

    const served = await startExec(kc, 'shop', nativePod, 'istio-proxy', PILOT_AGENT);
    expect(await served.status).toEqual({ metadata: {}, status: 'Success' });
    expect((await served.stdout.finished).toString()).toBe(`${dump}\n`);

    const missing = await startExec(kc, 'shop', nativePod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'config_dump?resource=nope']);
    expect(await missing.status).toEqual({ metadata: {}, status: 'Success' }); // pilot-agent exits 0 on HTTP errors
    expect((await missing.stdout.finished).toString()).toBe(`${ENVOY_ADMIN_NOT_FOUND}\n`);

    const appContainer = await startExec(kc, 'shop', nativePod, 'native', PILOT_AGENT);
    expect(await appContainer.status).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500 });
  });

  it('rejects before upgrading, with the HTTP status of the real server', async () => {
    const failure = async (podName: string, container: string): Promise<string> => {
      const error = await new Exec(kc)
        .exec('shop', podName, container, PILOT_AGENT, new Collector(), new Collector(), null, false)
        .then(
          () => undefined,
          (e: unknown) => e as { message?: string },
        );
      return String(error?.message);
    };
    expect(await failure('ghost', 'istio-proxy')).toContain('Unexpected server response: 404');
    expect(await failure(pod, 'sidecar')).toContain('Unexpected server response: 400');
    const pending = emulator.list('Pod', 'shop').find((p) => p.metadata.labels?.app === 'starting')!.metadata.name;
    expect(await failure(pending, 'istio-proxy')).toContain('Unexpected server response: 400');
    const fault = emulator.injectFault({ path: /\/pods\/[^/]+\/exec\?/, status: 500, times: 1 });
    expect(await failure(pod, 'istio-proxy')).toContain('Unexpected server response: 500');
    expect(fault.hits).toBe(1);
    expect(emulator.requests.map((r) => r.status)).toEqual([404, 400, 400, 500]);
    expect(emulator.execs.every((r) => r.pod !== 'ghost')).toBe(true);
  });

  it('rejects an exec with a wrong token with 401', async () => {
    const wrong = new KubeConfig();
    wrong.loadFromClusterAndUser(kc.getCurrentCluster()!, { name: 'intruder', token: 'nope' });
    const error = await new Exec(wrong).exec('shop', pod, 'istio-proxy', PILOT_AGENT, new Collector(), null, null, false).catch((e: unknown) => e);
    expect(String((error as { message?: string }).message)).toContain('Unexpected server response: 401');
  });
});

describe('pods/exec with only v4.channel.k8s.io offered by the server', () => {
  let emulator: KubeApiEmulator;
  let kc: KubeConfig;
  let pod: string;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator({ execProtocols: ['v4.channel.k8s.io'], execHandler: () => ({ stdout: largePayload() }) });
    pod = new Mesh(emulator).addStatefulSet('data', 'ledger').pods[0]!.metadata.name;
    kc = emulator.kubeConfig();
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('negotiates v4 and delivers stdout and status the same way', async () => {
    const exec = await startExec(kc, 'data', pod, 'istio-proxy', PILOT_AGENT);
    expect(exec.socket.protocol).toBe('v4.channel.k8s.io');
    expect(await exec.status).toEqual({ metadata: {}, status: 'Success' });
    expect((await exec.stdout.finished).equals(largePayload())).toBe(true);
    expect(emulator.execs[0]?.protocol).toBe('v4.channel.k8s.io');
  });
});

describe('closing the emulator', () => {
  it('frees hanging execs and execs waiting out the artificial latency', async () => {
    const emulator = await startKubeApiEmulator({ execLatencyMs: 60_000, execHandler: () => 'hang' });
    const pods = new Mesh(emulator).addDeployment('shop', 'carts', { replicas: 2 }).pods.map((p) => p.metadata.name);
    const kc = emulator.kubeConfig();
    const waiting = await startExec(kc, 'shop', pods[0]!, 'istio-proxy', PILOT_AGENT);
    const alsoWaiting = await startExec(kc, 'shop', pods[1]!, 'istio-proxy', PILOT_AGENT);
    expect(emulator.activeExecs()).toBe(2);

    await emulator.close();
    await Promise.all([closed(waiting.socket), closed(alsoWaiting.socket)]);
    expect(await Promise.all(emulator.execs.map((r) => r.done))).toEqual(['server-closed', 'server-closed']);
    expect(waiting.statusSeen() || alsoWaiting.statusSeen()).toBe(false);
  });
});
