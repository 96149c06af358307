/**
 * A discrete model of certificate rotation in a mesh, minute by minute, to compare the watcher
 * with the restart CronJob it replaces. No Kubernetes: pods are slots with a leaf issue time.
 *
 * The mesh: `pods` pods in workloads of `replicas`. Every leaf lives `lifetimeMinutes` (1 h);
 * a healthy pod gets a new one at half its lifetime (tbot renews at 50 %), starting at a random
 * phase. `brokenShare` of the pods break once, at a random minute of the run: from then on their
 * leaf is never renewed (tbot stopped renewing, the agent serves a stale file...). A restart
 * replaces the pods of a workload with new pods that get a new leaf and rotate normally: the
 * fault was the pod's, as with the CronJob band-aid that works in the field.
 *
 * The watcher: a sweep every `scheduleMinutes`; a pod is `expiring` when its leaf has less than
 * `expiringWithinShare` of its lifetime left, `expired` at notAfter, `stale` past
 * `staleAfterShare` of it. Each `expiring`/`expired` pod is one event for the remediator, which
 * applies the deployment's safety rules: breaker (more than `breakerShare` of the pods unhealthy,
 * at least 2), per-workload cooldown, per-cluster budget per clock hour, then a rollout restart.
 * The CronJob: every pod restarted every `cronJobIntervalMinutes`, from minute 0.
 *
 * Counted per run: pod and workload restarts, restarts the rules skipped, leaves that reached
 * notAfter before a restart (expiries), and what drives the cost model: events by detail-type,
 * remediator and notifier invocations. Deterministic for a seed.
 */
import { ConfigError } from '../../core/model/errors.js';
import { seededRandom } from './random.js';

export interface SimulationSettings {
  readonly pods: number;
  /** 0-1: the share of pods that stop rotating at a random minute of the run. */
  readonly brokenShare: number;
  readonly hours: number;
  readonly seed: number;
  /** Pods per workload; a rollout restart replaces all of them. */
  readonly replicas: number;
  readonly lifetimeMinutes: number;
  readonly scheduleMinutes: number;
  readonly staleAfterShare: number;
  readonly expiringWithinShare: number;
  readonly cooldownMinutes: number;
  readonly budgetPerHour: number;
  readonly breakerShare: number;
  readonly cronJobIntervalMinutes: number;
}

export interface WatcherCounts {
  readonly sweeps: number;
  readonly podRestarts: number;
  readonly workloadRestarts: number;
  /** Remediator events the safety rules did not act on, by rule. */
  readonly skipped: { readonly cooldown: number; readonly budget: number; readonly breaker: number };
  readonly expiries: number;
  readonly events: {
    readonly unhealthy: number;
    readonly stateChanged: number;
    readonly sweepCompleted: number;
    readonly workloadRestart: number;
  };
  readonly remediatorInvocations: number;
  /** Sweeps after which the notifier had something (state changes or restart outcomes). */
  readonly notifierInvocations: number;
  /** Ledger writes: one per state change (put or delete). */
  readonly ledgerWrites: number;
}

export interface CronJobCounts {
  readonly runs: number;
  readonly podRestarts: number;
  readonly expiries: number;
}

export interface SimulationResult {
  readonly settings: SimulationSettings;
  readonly minutes: number;
  /** Per watcher sweep and CronJob run, for the HTML report's charts (not in `-o json`). */
  readonly timeline: SimulationTimeline;
  readonly brokenPods: number;
  readonly workloads: number;
  readonly watcher: WatcherCounts;
  readonly cronJob: CronJobCounts;
}

interface Mesh {
  /** Minute each pod's current leaf was issued (may be negative: before the run). */
  readonly issuedAt: Float64Array;
  /** Minute each pod breaks (Infinity: never). */
  readonly breakAt: Float64Array;
  /** The current leaf already counted as expired. */
  readonly expiredCounted: Uint8Array;
}

/** The same mesh for both strategies: phases and break times come from the seed alone. */
/** One watcher sweep of the simulation: pods per state, the tightest certificate, restarts so far. */
export interface TimelineSweep {
  readonly minute: number;
  readonly healthy: number;
  readonly stale: number;
  readonly expiring: number;
  readonly expired: number;
  /** Minutes left on the certificate closest to expiry (negative: expired that long ago). */
  readonly minRemainingMinutes: number;
  /** Pod restarts by the watcher up to and including this sweep. */
  readonly watcherPodRestarts: number;
}

export interface SimulationTimeline {
  readonly sweeps: readonly TimelineSweep[];
  /** Pod restarts by the CronJob up to each run. */
  readonly cronJobRuns: ReadonlyArray<{ readonly minute: number; readonly podRestarts: number }>;
}

function buildMesh(settings: SimulationSettings, minutes: number): { mesh: Mesh; brokenPods: number } {
  const random = seededRandom(settings.seed);
  const rotateEvery = settings.lifetimeMinutes / 2;
  const issuedAt = new Float64Array(settings.pods);
  for (let i = 0; i < settings.pods; i++) issuedAt[i] = -Math.floor(random() * rotateEvery);
  const breakAt = new Float64Array(settings.pods).fill(Infinity);
  const brokenPods = Math.round(settings.pods * settings.brokenShare);
  // A partial Fisher-Yates shuffle picks exactly `brokenPods` distinct pods.
  const order = Array.from({ length: settings.pods }, (_, i) => i);
  for (let k = 0; k < brokenPods; k++) {
    const j = k + Math.floor(random() * (settings.pods - k));
    [order[k], order[j]] = [order[j]!, order[k]!];
    breakAt[order[k]!] = Math.floor(random() * minutes);
  }
  return { mesh: { issuedAt, breakAt, expiredCounted: new Uint8Array(settings.pods) }, brokenPods };
}

function cloneMesh(mesh: Mesh): Mesh {
  return { issuedAt: mesh.issuedAt.slice(), breakAt: mesh.breakAt.slice(), expiredCounted: mesh.expiredCounted.slice() };
}

/** One minute of certificate life: renewals of working pods, then expiries. */
function tick(mesh: Mesh, settings: SimulationSettings, t: number): number {
  const rotateEvery = settings.lifetimeMinutes / 2;
  let expiries = 0;
  for (let i = 0; i < settings.pods; i++) {
    const broken = mesh.breakAt[i]! <= t;
    if (!broken && t - mesh.issuedAt[i]! >= rotateEvery) {
      mesh.issuedAt[i] = t;
      mesh.expiredCounted[i] = 0;
    }
    if (!mesh.expiredCounted[i] && t >= mesh.issuedAt[i]! + settings.lifetimeMinutes) {
      mesh.expiredCounted[i] = 1;
      expiries += 1;
    }
  }
  return expiries;
}

/** New pods for workload `w` at minute `t`: new leaves, and the fault of a broken pod is gone. */
function restartWorkload(mesh: Mesh, settings: SimulationSettings, w: number, t: number): number {
  const first = w * settings.replicas;
  const last = Math.min(settings.pods, first + settings.replicas);
  for (let i = first; i < last; i++) {
    mesh.issuedAt[i] = t;
    mesh.expiredCounted[i] = 0;
    if (mesh.breakAt[i]! <= t) mesh.breakAt[i] = Infinity;
  }
  return last - first;
}

const HEALTHY = 0;
const STALE = 1;
const EXPIRING = 2;
const EXPIRED = 3;

function runWatcher(source: Mesh, settings: SimulationSettings, minutes: number, timeline: TimelineSweep[]): WatcherCounts {
  const mesh = cloneMesh(source);
  const lifetime = settings.lifetimeMinutes;
  const staleAfter = lifetime * settings.staleAfterShare;
  const expiringWithin = lifetime * settings.expiringWithinShare;
  const workloads = Math.ceil(settings.pods / settings.replicas);
  const lastRestart = new Float64Array(workloads).fill(-Infinity);
  const budgetUsed = new Map<number, number>();
  // Each pod's state at the last sweep; a restarted pod is a new pod, first seen healthy.
  const previous = new Uint8Array(settings.pods);
  const replaced = new Uint8Array(settings.pods);
  const state = new Uint8Array(settings.pods);
  const counts = {
    sweeps: 0,
    podRestarts: 0,
    workloadRestarts: 0,
    skipped: { cooldown: 0, budget: 0, breaker: 0 },
    expiries: 0,
    events: { unhealthy: 0, stateChanged: 0, sweepCompleted: 0, workloadRestart: 0 },
    remediatorInvocations: 0,
    notifierInvocations: 0,
    ledgerWrites: 0,
  };

  for (let t = 0; t < minutes; t++) {
    counts.expiries += tick(mesh, settings, t);
    if (t % settings.scheduleMinutes !== 0) continue;

    counts.sweeps += 1;
    let unhealthy = 0;
    let changes = 0;
    const perState = [0, 0, 0, 0];
    let minRemaining = Infinity;
    for (let i = 0; i < settings.pods; i++) {
      const age = t - mesh.issuedAt[i]!;
      const remaining = lifetime - age;
      const now = remaining <= 0 ? EXPIRED : remaining < expiringWithin ? EXPIRING : age >= staleAfter ? STALE : HEALTHY;
      state[i] = now;
      perState[now]! += 1;
      if (remaining < minRemaining) minRemaining = remaining;
      if (now !== HEALTHY) unhealthy += 1;
      // The pod the ledger knew was replaced: its item goes (`gone`) if it had one.
      const before = replaced[i] ? HEALTHY : previous[i]!;
      if (replaced[i] && previous[i] !== HEALTHY) changes += 1;
      if (now !== before) changes += 1;
      previous[i] = now;
      replaced[i] = 0;
    }
    counts.events.unhealthy += unhealthy;
    counts.events.stateChanged += changes;
    counts.events.sweepCompleted += 1;
    counts.ledgerWrites += changes;

    const breakerOpen = unhealthy >= 2 && unhealthy / settings.pods > settings.breakerShare;
    const hour = Math.floor(t / 60);
    let restartOutcomes = 0;
    for (let i = 0; i < settings.pods; i++) {
      if (state[i]! < EXPIRING) continue;
      counts.remediatorInvocations += 1;
      restartOutcomes += 1;
      const w = Math.floor(i / settings.replicas);
      if (breakerOpen) counts.skipped.breaker += 1;
      else if (t - lastRestart[w]! < settings.cooldownMinutes) counts.skipped.cooldown += 1;
      else if ((budgetUsed.get(hour) ?? 0) >= settings.budgetPerHour) counts.skipped.budget += 1;
      else {
        budgetUsed.set(hour, (budgetUsed.get(hour) ?? 0) + 1);
        lastRestart[w] = t;
        counts.workloadRestarts += 1;
        const first = w * settings.replicas;
        const replacedPods = restartWorkload(mesh, settings, w, t);
        counts.podRestarts += replacedPods;
        for (let p = first; p < first + replacedPods; p++) replaced[p] = 1;
      }
    }
    counts.events.workloadRestart += restartOutcomes;
    timeline.push({
      minute: t,
      healthy: perState[HEALTHY]!,
      stale: perState[STALE]!,
      expiring: perState[EXPIRING]!,
      expired: perState[EXPIRED]!,
      minRemainingMinutes: minRemaining,
      watcherPodRestarts: counts.podRestarts,
    });
    if (changes > 0 || restartOutcomes > 0) counts.notifierInvocations += 1;
  }
  return counts;
}

function runCronJob(source: Mesh, settings: SimulationSettings, minutes: number, timeline: Array<{ minute: number; podRestarts: number }>): CronJobCounts {
  const mesh = cloneMesh(source);
  const workloads = Math.ceil(settings.pods / settings.replicas);
  let runs = 0;
  let podRestarts = 0;
  let expiries = 0;
  for (let t = 0; t < minutes; t++) {
    expiries += tick(mesh, settings, t);
    if (t % settings.cronJobIntervalMinutes !== 0) continue;
    runs += 1;
    for (let w = 0; w < workloads; w++) podRestarts += restartWorkload(mesh, settings, w, t);
    timeline.push({ minute: t, podRestarts });
  }
  return { runs, podRestarts, expiries };
}

export function validateSettings(settings: SimulationSettings): void {
  const positiveInteger = (name: keyof SimulationSettings, max: number): void => {
    const value = settings[name] as number;
    if (!Number.isInteger(value) || value < 1 || value > max) throw new ConfigError(name, `must be an integer from 1 to ${max}, got ${value}`);
  };
  positiveInteger('pods', 100_000);
  positiveInteger('replicas', 1000);
  positiveInteger('scheduleMinutes', 60);
  positiveInteger('cronJobIntervalMinutes', 1440);
  positiveInteger('lifetimeMinutes', 10_080);
  if (!(settings.hours > 0 && settings.hours <= 24 * 31)) throw new ConfigError('hours', `must be more than 0 and at most 744, got ${settings.hours}`);
  if (!(settings.brokenShare >= 0 && settings.brokenShare <= 1)) throw new ConfigError('brokenShare', `must be from 0 to 1, got ${settings.brokenShare}`);
  if (!Number.isInteger(settings.budgetPerHour) || settings.budgetPerHour < 0) throw new ConfigError('budgetPerHour', `must be an integer >= 0, got ${settings.budgetPerHour}`);
  if (!Number.isInteger(settings.seed)) throw new ConfigError('seed', `must be an integer, got ${settings.seed}`);
}

export function simulate(settings: SimulationSettings): SimulationResult {
  validateSettings(settings);
  const minutes = Math.round(settings.hours * 60);
  const { mesh, brokenPods } = buildMesh(settings, minutes);
  const timeline = { sweeps: [] as TimelineSweep[], cronJobRuns: [] as Array<{ minute: number; podRestarts: number }> };
  return {
    settings,
    minutes,
    timeline,
    brokenPods,
    workloads: Math.ceil(settings.pods / settings.replicas),
    watcher: runWatcher(mesh, settings, minutes, timeline.sweeps),
    cronJob: runCronJob(mesh, settings, minutes, timeline.cronJobRuns),
  };
}
