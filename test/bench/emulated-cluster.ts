/**
 * Benchmark helper process: serves an emulated cluster of N injected pods whose exec answers
 * after a fixed latency, and prints the kubeconfig path on stdout once ready.
 * Runs in its own process so the server's CPU does not count against the sweeper's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki, sidecarSecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';

const pods = Number(process.argv[2] ?? 5000);
const latencyMs = Number(process.argv[3] ?? 100);
const podsPerDeployment = 50;

const emulator = await startKubeApiEmulator({ execLatencyMs: latencyMs, recordRequests: false });
const pki = await createMeshPki('bench.example');
const mesh = new Mesh(emulator, { nodeCount: 50 });
mesh.addNamespace('bench');
// One realistic dump (leaf + intermediate + ROOTCA, ~3 KB) answered by every pod.
const secrets = await sidecarSecrets(pki, { servedBy: 'tbot', namespace: 'bench', serviceAccount: 'svc', issuedAt: new Date(Date.now() - 600_000), lifetimeSeconds: 3600 });
for (let made = 0, i = 0; made < pods; i++) {
  const replicas = Math.min(podsPerDeployment, pods - made);
  mesh.addDeployment('bench', `svc-${i}`, { replicas, serviceAccount: 'svc' });
  made += replicas;
}
emulator.setExecHandler(() => ({ stdout: secrets.responses[Object.keys(secrets.responses)[0]!]! }));

const file = join(mkdtempSync(join(tmpdir(), 'mcw-bench-')), 'kubeconfig');
writeFileSync(file, emulator.kubeconfigYaml('bench'));
process.stdout.write(`${file}\n`);
process.on('SIGTERM', () => void emulator.close().then(() => process.exit(0)));
