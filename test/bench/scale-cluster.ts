/**
 * Benchmark helper process for `npm run bench -- scale`: an emulated cluster of N injected tbot
 * pods whose exec answers after a log-normal latency (median `medianMs`, shape `sigma`: a long
 * tail, as exec through the API server, kubelet and the container runtime has), seeded so runs
 * compare. Pods are in 20 phase groups whose leaves were issued 6 to 17.4 minutes before start,
 * so a sweep 5 minutes after a first one finds a quarter past their renewal point (20 min) and
 * none past its slack (23 min): due, and healthy.
 * Prints the kubeconfig path on stdout once ready. Runs in its own process so the emulator's CPU
 * does not count against the sweeper's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { ACTIVE_SECRETS_PATH, createMeshPki, sidecarSecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { seededRandom } from '../../src/sandbox/simulation/random.js';

const pods = Number(process.argv[2] ?? 20_000);
const medianMs = Number(process.argv[3] ?? 300);
const sigma = Number(process.argv[4] ?? 0.6);
const PHASES = 20;
const podsPerDeployment = 50;

const random = seededRandom(20_000 + pods);
/** Box-Muller: a standard normal draw from two uniform ones. */
const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const latency = (): number => Math.round(medianMs * Math.exp(sigma * normal()));

const emulator = await startKubeApiEmulator({ execLatencyMs: 0, recordRequests: false });
const pki = await createMeshPki('bench.example');
const mesh = new Mesh(emulator, { nodeCount: 200 });
mesh.addNamespace('bench');
const phaseOf = new Map<string, number>();
for (let made = 0, i = 0; made < pods; i++) {
  const replicas = Math.min(podsPerDeployment, pods - made);
  for (const pod of mesh.addDeployment('bench', `svc-${i}`, { replicas, serviceAccount: 'svc' }).pods) phaseOf.set(pod.metadata.name, phaseOf.size % PHASES);
  made += replicas;
}
// Issued relative to when the cluster is ready (building 50,000 pods takes a while under load).
const started = Date.now();
const dumps: string[] = [];
for (let phase = 0; phase < PHASES; phase++) {
  const secrets = await sidecarSecrets(pki, { servedBy: 'tbot', namespace: 'bench', serviceAccount: 'svc', issuedAt: new Date(started - (6 + phase * 0.6) * 60_000), lifetimeSeconds: 3600 });
  dumps.push(secrets.responses[ACTIVE_SECRETS_PATH]!);
}
let execs = 0;
emulator.setExecHandler((request) => {
  execs++;
  return { stdout: dumps[phaseOf.get(request.pod) ?? 0]!, delayMs: latency() };
});

const file = join(mkdtempSync(join(tmpdir(), 'mcw-scale-')), 'kubeconfig');
writeFileSync(file, emulator.kubeconfigYaml('bench'));
process.stdout.write(`${file}\n`);
// The parent asks for the exec count with SIGUSR2 and reads it on stdout.
process.on('SIGUSR2', () => process.stdout.write(`${execs}\n`));
process.on('SIGTERM', () => void emulator.close().then(() => process.exit(0)));
