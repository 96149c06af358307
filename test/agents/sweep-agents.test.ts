/**
 * The tbot agent in the sweep, over the real client-node against the Kubernetes API emulator: one
 * paged list of the agent pods per sweep, each tbot-served pod mapped to the agent on its node,
 * `tbot-outdated` for pods whose agent has a rotation bug, the `agents` section, and the exact
 * upgrade advice in the CLI table.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep } from '../../src/core/judgement/sweep.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import type { PodReport, SweepReport } from '../../src/core/model/types.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki, sidecarSecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { kubeSweepSource } from '../../src/kube/kube-sweep.js';
import { listTbotAgents } from '../../src/kube/tbot-agents.js';
import { runCli } from '../support/cli.js';

const NOW = new Date('2026-11-27T12:00:00.000Z');
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);
const HOUR = 3600;

describe('tbot agents in the sweep', () => {
  let emulator: KubeApiEmulator;
  let kubeconfig: string;
  let report: SweepReport;
  let nodes: readonly string[];
  const pod = (prefix: string): PodReport => {
    const found = report.pods.find((p) => p.name.startsWith(prefix));
    if (!found) throw new Error(`no pod ${prefix}`);
    return found;
  };

  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
    const dir = mkdtempSync(join(tmpdir(), 'mcw-agents-'));
    kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, emulator.kubeconfigYaml('emulated-eks'));
    const pki = await createMeshPki('example.org');
    const mesh = new Mesh(emulator, { nodeCount: 3, startTime: minutesAgo(600) });
    nodes = mesh.nodeNames;
    // Node 0: affected tbot (18.5.0); node 1: fixed; node 2: an image without a version tag.
    mesh.addTbotAgents({ defaultVersion: '18.6.4', versions: { [nodes[0]!]: '18.5.0' } });
    const agentNode2 = emulator.list('Pod', 'teleport-system').find((p) => p.spec?.nodeName === nodes[2]);
    emulator.apply({
      ...agentNode2!,
      spec: { ...agentNode2!.spec, containers: [{ name: 'tbot', image: `registry.internal:5000/tbot@sha256:${'c'.repeat(64)}` }] },
    });
    mesh.addNamespace('shop');
    // Three replicas, one per node (round robin).
    const orders = mesh.addDeployment('shop', 'orders', { replicas: 3 });
    for (const p of orders.pods) {
      const stuck = p.spec?.nodeName === nodes[0];
      const secrets = await sidecarSecrets(pki, {
        servedBy: 'tbot',
        namespace: 'shop',
        serviceAccount: 'orders',
        issuedAt: minutesAgo(stuck ? 40 : 10),
        pushedAt: minutesAgo(stuck ? 2 : 10),
        lifetimeSeconds: HOUR,
      });
      emulator.setProxyResponses('shop', p.metadata.name, secrets.responses);
    }
    // Served by the Istio agent: never mapped to a tbot agent.
    const payment = mesh.addDeployment('shop', 'payment');
    for (const p of payment.pods) {
      const secrets = await sidecarSecrets(pki, { servedBy: 'istio-agent', namespace: 'shop', serviceAccount: 'payment', issuedAt: minutesAgo(5), lifetimeSeconds: HOUR });
      emulator.setProxyResponses('shop', p.metadata.name, secrets.responses);
    }

    const client = new KubeClient(emulator.kubeConfig());
    const before = emulator.requests.length;
    report = await runSweep(kubeSweepSource(client, { tbotAgents: { namespace: 'teleport-system', labelSelector: 'app=tbot' } }), {
      cluster: 'emulated-eks',
      sweepId: 's-1',
      thresholds: DEFAULT_THRESHOLDS,
      concurrency: 4,
      now: NOW,
    });
    const agentLists = emulator.requests.slice(before).filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/teleport-system/pods');
    expect(agentLists).toHaveLength(1);
    expect(agentLists[0]!.query.labelSelector).toBe('app=tbot');
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('maps each tbot-served pod to the agent on its node, with the version from its image', () => {
    for (const p of report.pods.filter((x) => x.name.startsWith('orders'))) {
      const agent = report.agents!.find((a) => a.node === p.node)!;
      expect(p.agent).toEqual({ pod: agent.pod, version: agent.version });
    }
    const onNode0 = report.pods.find((p) => p.name.startsWith('orders') && p.node === nodes[0])!;
    expect(onNode0.agent?.version).toBe('18.5.0');
    expect(pod('payment').agent).toBeUndefined();
  });

  it('flags tbot-outdated only for pods whose agent has a rotation bug; an unknown version is never judged', () => {
    const byNode = (node: string) => report.pods.find((p) => p.name.startsWith('orders') && p.node === node)!;
    expect(byNode(nodes[0]!).findings).toEqual(['sds-push-without-rotation', 'tbot-outdated']);
    expect(byNode(nodes[0]!).state).toBe('stale');
    expect(byNode(nodes[1]!).findings).toEqual([]);
    expect(byNode(nodes[2]!).findings).toEqual([]);
    expect(byNode(nodes[2]!).agent?.version).toBeNull();
  });

  it('reports agents[] with pods served and unhealthy', () => {
    expect(report.agents!.map((a) => ({ node: a.node, version: a.version, outdated: a.outdated, upgradeTo: a.upgradeTo, served: a.podsServed, unhealthy: a.podsUnhealthy }))).toEqual([
      { node: nodes[0], version: '18.5.0', outdated: true, upgradeTo: '18.6.4', served: 1, unhealthy: 1 },
      { node: nodes[1], version: '18.6.4', outdated: false, upgradeTo: null, served: 1, unhealthy: 0 },
      { node: nodes[2], version: null, outdated: false, upgradeTo: null, served: 1, unhealthy: 0 },
    ]);
  });

  it('pages the agent list', async () => {
    const agents = await listTbotAgents(new KubeClient(emulator.kubeConfig()), { namespace: 'teleport-system', labelSelector: 'app=tbot' }, 1);
    expect(agents.map((a) => a.node).sort()).toEqual([...nodes].sort());
  });

  it('prints the exact upgrade advice in the CLI table and the agents in JSON', async () => {
    const table = await runCli(['sweep', '--kubeconfig', kubeconfig, '--now', NOW.toISOString()]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`upgrade tbot on node ${nodes[0]} (18.5.0 → 18.6.4)`);
    expect(table.stdout).toMatch(/NODE\s+TBOT AGENT\s+VERSION/);
    expect(table.stdout).toContain('renewed X509-SVIDs not proactively sent to Envoy (gravitational/teleport#62813');
    const json = await runCli(['sweep', '--kubeconfig', kubeconfig, '--now', NOW.toISOString(), '-o', 'json']);
    const parsed = JSON.parse(json.stdout) as SweepReport;
    expect(parsed.agents).toHaveLength(3);
    expect(parsed.pods.some((p) => p.findings.includes('tbot-outdated'))).toBe(true);
  });

  it('looks where --tbot-namespace / --tbot-selector say, and refuses a bad selector', async () => {
    const elsewhere = await runCli(['sweep', '--kubeconfig', kubeconfig, '--now', NOW.toISOString(), '-o', 'json', '--tbot-namespace', 'spire', '--tbot-selector', 'app=agent']);
    const parsed = JSON.parse(elsewhere.stdout) as SweepReport;
    expect(parsed.agents).toEqual([]);
    expect(parsed.pods.every((p) => p.agent === undefined && !p.findings.includes('tbot-outdated'))).toBe(true);
    const bad = await runCli(['sweep', '--kubeconfig', kubeconfig, '--tbot-selector', 'app=tbot;rm']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--tbot-selector');
  });

  it('goes on without agents when they cannot be listed, and says why', async () => {
    const fault = emulator.injectFault({ method: 'GET', path: '/api/v1/namespaces/teleport-system/pods', status: 403, message: 'forbidden by test' });
    try {
      const json = await runCli(['sweep', '--kubeconfig', kubeconfig, '--now', NOW.toISOString(), '-o', 'json']);
      expect(json.code).toBe(0);
      const parsed = JSON.parse(json.stdout) as SweepReport;
      expect(parsed.agentsError).toContain('403');
      expect(parsed.summary.sampled).toBe(4);
      expect(parsed.pods.every((p) => !p.findings.includes('tbot-outdated'))).toBe(true);
    } finally {
      fault.remove();
    }
  });
});
