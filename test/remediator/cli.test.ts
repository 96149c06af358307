/** `mesh-cert-watch sweep --remediate [--dry-run]` end to end: the real CLI against the emulator. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../../src/cli/main.js';
import { SweepJsonReportSchema } from '../../src/core/events/schemas.js';
import { resourceSecretsDump } from '../../src/sandbox/emulator/envoy-dump.js';
import { startKubeApiEmulator, type KubeApiEmulator, type KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createRootCa, issueLeaf, type CertificateAuthority } from '../../src/sandbox/emulator/pki.js';
import { reportSchemaProblems } from '../support/report-schema.js';
import { minutes, NOW } from './kit.js';

const DUMP_PATH = 'config_dump?resource=dynamic_active_secrets';

let emulator: KubeApiEmulator;
let directory: string;
let kubeconfig: string;
let root: CertificateAuthority;

async function serveLeaf(pod: KubeObject, notBefore: Date): Promise<void> {
  const namespace = pod.metadata.namespace!;
  const serviceAccount = (pod.spec as { serviceAccountName: string }).serviceAccountName;
  const leaf = await issueLeaf(root, { spiffeId: `spiffe://example.org/ns/${namespace}/sa/${serviceAccount}`, notBefore, notAfter: minutes(60, notBefore) });
  const dump = resourceSecretsDump([
    { name: 'default', versionInfo: notBefore.toISOString(), lastUpdated: notBefore, chainPem: leaf.certificatePem },
    { name: 'ROOTCA', versionInfo: notBefore.toISOString(), lastUpdated: notBefore, rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } },
  ]);
  emulator.setProxyResponses(namespace, pod.metadata.name, { [DUMP_PATH]: JSON.stringify(dump) });
}

function capture(): { io: CliIo; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t), readStdin: async () => '' }, out: () => out.join(''), err: () => err.join('') };
}

const sweep = (...extra: string[]) => ['sweep', '--kubeconfig', kubeconfig, '-n', 'cli', '--now', NOW.toISOString(), '--cluster', 'laptop', ...extra];

beforeAll(async () => {
  root = await createRootCa('example.org');
  emulator = await startKubeApiEmulator();
  const mesh = new Mesh(emulator);
  await serveLeaf(mesh.addDeployment('cli', 'carts').pods[0]!, minutes(-55)); // 5 min left of 60: expiring
  for (const name of ['orders', 'users', 'search']) await serveLeaf(mesh.addDeployment('cli', name).pods[0]!, minutes(-5));
  mesh.addDeployment('cli', 'silent'); // no scripted dump: unreachable
  directory = await mkdtemp(join(tmpdir(), 'mcw-cli-'));
  kubeconfig = join(directory, 'kubeconfig');
  await writeFile(kubeconfig, emulator.kubeconfigYaml());
});

afterAll(async () => {
  await emulator.close();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => emulator.requests.clear());

describe('sweep --remediate', () => {
  it('--dry-run -o json: adds the plan to the report and changes nothing', async () => {
    const { io, out, err } = capture();
    expect(await main(sweep('--remediate', '--dry-run', '-o', 'json'), io)).toBe(0);
    expect(err()).toBe('');
    // Parsed with the contract's report schema: the remediation plan is part of the contract.
    const printed = SweepJsonReportSchema.parse(JSON.parse(out()));
    expect(reportSchemaProblems(JSON.parse(out()))).toEqual([]);
    expect(printed.cluster).toBe('laptop');
    expect(printed.summary.sampled).toBe(5);
    expect(printed.remediation?.dryRun).toBe(true);
    expect(printed.remediation?.outcomes.map((o) => [o.workload.name, o.pods[0]!.state, o.outcome, o.reason])).toEqual([
      ['carts', 'expiring', 'dry-run', 'expiring'],
      ['silent', 'unreachable', 'skipped', 'not-restartable'],
    ]);
    expect(printed.remediation?.outcomes[0]).toMatchObject({ cluster: 'laptop', workload: { kind: 'Deployment' }, restartedAt: '2030-03-01T12:00:00Z', dryRun: true });
    expect(emulator.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('acts with the same rules and prints the outcomes under the sweep table', async () => {
    const { io, out } = capture();
    expect(await main(sweep('--remediate'), io)).toBe(0);
    const text = out();
    expect(text).toMatch(/\nRemediation:\nNAMESPACE\s+POD\s+STATE\s+WORKLOAD\s+OUTCOME\s+REASON\s+DETAIL\n/);
    expect(text).toMatch(/cli\s+carts-\S+\s+expiring\s+Deployment\/carts\s+restarted\s+expiring\s+rollout restart of Deployment cli\/carts/);
    expect(text).toContain('restarted 1, skipped 1, dry-run 0, failed 0');
    const patches = emulator.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => [r.path, r.contentType])).toEqual([['/apis/apps/v1/namespaces/cli/deployments/carts', 'application/strategic-merge-patch+json']]);
  });

  it('rejects --dry-run without --remediate as bad usage (exit 2) and documents both flags', async () => {
    const { io, err } = capture();
    expect(await main(sweep('--dry-run'), io)).toBe(2);
    expect(err()).toBe('error: --dry-run: only with --remediate\n');
    const help = capture();
    expect(await main(['help', 'sweep'], help.io)).toBe(0);
    expect(help.out()).toContain('--remediate');
    expect(help.out()).toContain('--dry-run');
  });
});
