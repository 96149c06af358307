/**
 * A kubeconfig's `proxy-url` (clusters[].cluster.proxy-url, as kubectl reads it): every request
 * goes through the proxy, the exec WebSocket included, through the real client-node against the
 * emulator and a local HTTP CONNECT proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { listenOnLoopback, type LoopbackServer } from '../../src/sandbox/emulator/loopback-server.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { execCommand } from '../../src/kube/exec.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { ACTIVE_SECRETS_COMMAND } from '../../src/kube/envoy-sampler.js';
import { listPods } from '../../src/kube/pod-discovery.js';

let emulator: KubeApiEmulator;
let proxy: LoopbackServer;
const tunnels: string[] = [];
/** Tunnelled sockets: CONNECT takes them off the server's books, so its close cannot end them. */
const open = new Set<Duplex>();

beforeAll(async () => {
  emulator = await startKubeApiEmulator();
  new Mesh(emulator, { startTime: new Date(Date.now() - 3600_000) }).addDeployment('shop', 'carts', { replicas: 2 });
  // The smallest forward proxy: CONNECT host:port, then bytes both ways.
  const server = createServer((_request, response) => response.writeHead(405).end());
  server.on('connect', (request, client, head) => {
    tunnels.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    }
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  proxy = await listenOnLoopback(server);
});

afterAll(async () => {
  for (const socket of open) socket.destroy();
  await proxy.close();
  await emulator.close();
});

function proxiedClient(): KubeClient {
  const direct = emulator.kubeConfig();
  const cluster = direct.getCurrentCluster()!;
  const user = direct.getCurrentUser()!;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ ...cluster, proxyUrl: proxy.baseUrl }],
    users: [user],
    contexts: [{ name: 'proxied', cluster: cluster.name, user: user.name }],
    currentContext: 'proxied',
  });
  return new KubeClient(kubeConfig);
}

describe('proxy-url', () => {
  it('carries the pod list and every exec stream through the proxy', async () => {
    const kube = proxiedClient();
    const server = new URL(kube.server);
    tunnels.length = 0;
    const targets = [];
    for await (const listing of listPods(kube, { namespaces: ['shop'] })) if (listing.kind === 'target') targets.push(listing.target);
    expect(targets).toHaveLength(2);
    for (const target of targets) {
      const output = await execCommand(kube, target, ACTIVE_SECRETS_COMMAND, { timeoutMs: 5_000, maxOutputBytes: 1 << 20 });
      expect(output.length).toBeGreaterThan(0);
    }
    // One tunnel for the list, one per exec stream, each to the API server.
    expect(tunnels.length).toBeGreaterThanOrEqual(3);
    expect(new Set(tunnels)).toEqual(new Set([`${server.hostname}:${server.port}`]));
    const execs = emulator.requests.filter((r) => r.path.endsWith('/exec'));
    expect(execs.map((r) => r.status)).toEqual([101, 101]);
  });
});
