/**
 * `npm run bench -- due`: execs per sweep for a healthy cluster over a simulated hour, with and
 * without due-based sampling (docs/contract.md §8.1), and proof that no broken pod is detected
 * later. It runs the sweep engine the sampler runs (runSweep with the deployment's default
 * thresholds, renewal policy, schedule and maximum observation age, the snapshot carried from
 * sweep to sweep as sweepCluster does) on a fake clock against an in-process source that answers
 * each exec with the parsed secrets the pod's sidecar holds at that instant: no network, no
 * sleeping, so 50,000 pods × 13 sweeps take seconds of CPU and the figures are exact counts.
 *
 * Pods share their timing with the other pods of their group (200 groups spread over the 20-min
 * tbot renewal cycle), so a few hundred certificates stand for the cluster:
 * - tbot, on time: a new leaf every 20 min + up to 5 s, notBefore = issue time;
 * - tbot, pessimistic: + up to 90 s issuance latency and notBefore backdated 60 s (the detection
 *   model's assumptions): a sweep can land between the expected renewal point and the real one,
 *   and then samples the pod again at the next sweep;
 * - Istio agent: 24 h leaves renewed at 49-51 % of their life.
 * 0.2 % of the pods are broken (half re-send a cached leaf, half stop being pushed), starting at
 * random instants; each must be flagged at the same sweep with and without due-based sampling.
 */
import { parseDeploymentConfig } from '../../src/config/deployment.js';
import { samplerRuntimeInput } from '../../src/config/runtime-configs.js';
import { parseRuntimeConfig, samplerRuntimeConfig } from '../../src/config/runtime.js';
import { parseSecretsDump, type ParsedSecrets } from '../../src/core/judgement/envoy-secrets.js';
import { indexSnapshot, nextSnapshot, type PodObservation } from '../../src/core/judgement/history.js';
import { runSweep, type SweepSource } from '../../src/core/judgement/sweep.js';
import type { PodListing, PodTarget } from '../../src/core/model/pods.js';
import { FakeClock } from '../../src/sandbox/emulator/fake-clock.js';
import { createMeshPki, sidecarSecrets, ACTIVE_SECRETS_PATH, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import type { IssuedLeaf } from '../../src/sandbox/emulator/pki.js';
import { seededRandom } from '../../src/sandbox/simulation/random.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const GROUPS = 200;
const BROKEN_SHARE = 0.002;

type Scenario = 'tbot-on-time' | 'tbot-pessimistic' | 'istio-agent';

/** One leaf of a group's timeline: what the sidecar holds from `from` on. */
interface Held {
  readonly from: number;
  readonly secrets: ParsedSecrets;
}

interface Group {
  readonly held: Held[];
  readonly broken: 'resent' | 'stopped' | null;
}

async function secretsAt(pki: MeshPki, servedBy: 'tbot' | 'istio-agent', notBefore: number, pushedAt: number, lifetimeSeconds: number, leaf?: IssuedLeaf) {
  const made = await sidecarSecrets(pki, {
    servedBy,
    namespace: 'bench',
    serviceAccount: 'svc',
    issuedAt: new Date(notBefore),
    pushedAt: new Date(pushedAt),
    lifetimeSeconds,
    ...(leaf ? { leaf } : {}),
  });
  return { parsed: parseSecretsDump(made.responses[ACTIVE_SECRETS_PATH]!), leaf: made.leaf! };
}

/** The timeline of each group from an hour before T0 to 70 minutes after. */
async function buildGroups(pki: MeshPki, scenario: Scenario, random: () => number, brokenGroups: number): Promise<Group[]> {
  const groups: Group[] = [];
  const end = T0 + 70 * MINUTE;
  for (let g = 0; g < GROUPS + brokenGroups; g++) {
    const broken = g < GROUPS ? null : (g - GROUPS) % 2 === 0 ? 'resent' : 'stopped';
    const held: Held[] = [];
    if (scenario === 'istio-agent') {
      const lifetime = 24 * 3600;
      let issued = T0 - random() * 0.5 * lifetime * 1000;
      while (issued <= end) {
        held.push({ from: issued, secrets: (await secretsAt(pki, 'istio-agent', issued, issued, lifetime)).parsed });
        issued += (0.49 + random() * 0.02) * lifetime * 1000;
      }
      groups.push({ held, broken: null });
      continue;
    }
    const pessimistic = scenario === 'tbot-pessimistic';
    const latency = () => (pessimistic ? random() * 90_000 : random() * 5_000);
    const backdateMs = pessimistic ? 60_000 : 0;
    // Phases spread over one renewal cycle; a broken group fails at a random instant in the hour.
    let issued = T0 - 20 * MINUTE + ((g % GROUPS) / GROUPS) * 20 * MINUTE;
    const failsAt = broken ? T0 + random() * 40 * MINUTE : Infinity;
    while (issued <= end) {
      const made = await secretsAt(pki, 'tbot', issued - backdateMs, issued, 3600);
      held.push({ from: issued, secrets: made.parsed });
      const next = issued + 20 * MINUTE + latency();
      if (next > failsAt) {
        // The failure: tbot re-sends this leaf every 20 min, or stops pushing at all.
        if (broken === 'resent') {
          for (let push = next; push <= end; push += 20 * MINUTE) {
            held.push({ from: push, secrets: (await secretsAt(pki, 'tbot', issued - backdateMs, push, 3600, made.leaf)).parsed });
          }
        }
        break;
      }
      issued = next;
    }
    groups.push({ held, broken });
  }
  return groups;
}

interface Run {
  /** Execs (samples) per sweep. */
  readonly execs: number[];
  /** First sweep index at which each broken pod was flagged (-1: never). */
  readonly flagged: Map<string, number>;
  readonly cpuMs: number;
}

async function runHour(config: ReturnType<typeof clusterConfig>, pods: readonly PodTarget[], groupOf: (uid: string) => Group, due: boolean): Promise<Run> {
  const clock = new FakeClock(T0);
  let previous: ReadonlyMap<string, PodObservation> = new Map();
  const execs: number[] = [];
  const flagged = new Map<string, number>();
  const cpuBefore = process.cpuUsage();
  for (let sweep = 0; sweep <= 60 / config.rateMinutes; sweep++) {
    if (sweep > 0) await clock.sleep(config.rateMinutes * MINUTE);
    const now = clock.now();
    let samples = 0;
    const source: SweepSource = {
      async *listPods(): AsyncIterable<PodListing> {
        for (const target of pods) yield { kind: 'target', target };
      },
      sample: async (target) => {
        samples++;
        const held = groupOf(target.uid).held;
        let current = held[0]!;
        for (const h of held) if (h.from <= now) current = h;
        return current.secrets;
      },
      resolveWorkload: async (target) => ({ kind: 'Deployment', name: target.ownerReferences[0]!.name }),
    };
    const report = await runSweep(source, {
      cluster: 'bench',
      sweepId: `s${sweep}`,
      thresholds: config.thresholds,
      concurrency: 64,
      clock: clock.date,
      history: { previous, renewal: config.rotation, ...(due ? { due: { maxObservationAgeSeconds: config.maxObservationAgeSeconds } } : {}) },
    });
    execs.push(samples);
    for (const pod of report.pods) {
      if (groupOf(pod.uid).broken && pod.state !== 'healthy' && !flagged.has(pod.uid)) flagged.set(pod.uid, sweep);
    }
    previous = indexSnapshot(nextSnapshot({ cluster: 'bench', sweepId: `s${sweep}`, now: report.now, partial: false, pods: report.pods, previous }));
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { execs, flagged, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function clusterConfig() {
  const deployment = parseDeploymentConfig({ region: 'us-east-1', clusters: [{ name: 'bench' }], notifications: { slackWebhookSecret: 'unused' } });
  const runtime = parseRuntimeConfig(samplerRuntimeConfig, {
    MESH_CERT_WATCH_CONFIG: JSON.stringify(samplerRuntimeInput(deployment, { ledgerTableName: 'ledger', historyBucketName: 'history' })),
  });
  const cluster = runtime.clusters[0]!;
  return {
    rateMinutes: deployment.clusters[0]!.schedule.rateMinutes,
    thresholds: cluster.thresholds,
    rotation: cluster.rotation,
    maxObservationAgeSeconds: cluster.sampling.maxObservationAgeSeconds,
  };
}

export interface DueFigures {
  readonly scenario: Scenario;
  readonly pods: number;
  readonly firstSweep: number;
  readonly meanEvery: number;
  readonly meanDue: number;
  readonly maxDue: number;
  readonly ratio: number;
  readonly broken: number;
  readonly sameSweep: number;
}

export async function benchDueSampling(
  podsCount = Number(process.env.BENCH_DUE_PODS ?? 50_000),
  scenarios: readonly Scenario[] = ['tbot-on-time', 'tbot-pessimistic', 'istio-agent'],
): Promise<DueFigures[]> {
  const config = clusterConfig();
  console.log(
    `\n## Due-based sampling: execs per sweep, healthy cluster of ${podsCount.toLocaleString('en-US')} pods over a simulated hour ` +
      `(a sweep every ${config.rateMinutes} min, max observation age ${config.maxObservationAgeSeconds / 60} min; runSweep on a fake clock)`,
  );
  const pki = await createMeshPki('bench.example');
  const rows: string[][] = [['SCENARIO', 'SWEEP 0 (ALL NEW)', 'EVERY POD', 'DUE-BASED MEAN', 'DUE-BASED MAX', 'FEWER', 'BROKEN PODS', 'SAME SWEEP', 'CPU (BOTH)']];
  const figures: DueFigures[] = [];
  for (const scenario of scenarios) {
    const random = seededRandom(14);
    const broken = scenario === 'istio-agent' ? 0 : Math.max(2, Math.round(podsCount * BROKEN_SHARE));
    const groups = await buildGroups(pki, scenario, random, scenario === 'istio-agent' ? 0 : 20);
    const pods: PodTarget[] = [];
    const groupIndex = new Map<string, number>();
    for (let i = 0; i < podsCount; i++) {
      // The broken pods are spread over the 20 broken groups.
      const group = i < broken ? GROUPS + (i % 20) : i % GROUPS;
      const uid = `pod-${i}`;
      groupIndex.set(uid, group);
      pods.push({ namespace: 'bench', name: uid, uid, serviceAccount: 'svc', node: `node-${i % 50}`, container: 'istio-proxy', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `svc-${Math.floor(i / 50)}-rs`, controller: true }], workloadCertsBesideSocket: false });
    }
    const groupOf = (uid: string): Group => groups[groupIndex.get(uid)!]!;
    const every = await runHour(config, pods, groupOf, false);
    const due = await runHour(config, pods, groupOf, true);
    const steady = (execs: number[]) => execs.slice(1);
    const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
    // Healthy pods only: the broken ones are sampled every sweep once due, in both modes.
    const meanEvery = mean(steady(every.execs));
    const meanDue = mean(steady(due.execs));
    let same = 0;
    for (const [uid, sweep] of every.flagged) if (due.flagged.get(uid) === sweep) same++;
    const brokenSeen = [...groupIndex.entries()].filter(([, g]) => groups[g]!.broken).length;
    const neverFlaggedInBoth = brokenSeen - every.flagged.size;
    const row: DueFigures = {
      scenario,
      pods: podsCount,
      firstSweep: due.execs[0]!,
      meanEvery,
      meanDue,
      maxDue: Math.max(...steady(due.execs)),
      ratio: meanEvery / meanDue,
      broken: brokenSeen,
      sameSweep: same + (due.flagged.size === every.flagged.size ? neverFlaggedInBoth : 0),
    };
    figures.push(row);
    rows.push([
      scenario,
      row.firstSweep.toLocaleString('en-US'),
      Math.round(meanEvery).toLocaleString('en-US'),
      Math.round(meanDue).toLocaleString('en-US'),
      row.maxDue.toLocaleString('en-US'),
      `${row.ratio.toFixed(2)}×`,
      String(row.broken),
      `${row.sameSweep} of ${row.broken}`,
      `${((every.cpuMs + due.cpuMs) / 1000).toFixed(1)} s`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n'));
  const worst = Math.min(...figures.map((f) => f.ratio));
  const allSame = figures.every((f) => f.sameSweep === f.broken);
  console.log(
    `execs per sweep after the first: ${worst.toFixed(2)}× to ${Math.max(...figures.map((f) => f.ratio)).toFixed(2)}× fewer with due-based sampling ` +
      `(goal ≥ 3×: ${worst >= 3 ? 'met' : 'NOT met'}); broken pods flagged at the same sweep in both modes: ${allSame ? 'all (no later detection: met)' : 'NOT all'}`,
  );
  return figures;
}
