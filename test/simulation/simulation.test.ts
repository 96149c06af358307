/**
 * The watcher-vs-CronJob model and the cost model: invariants that hold whatever the seed, and
 * the `simulate` command's output.
 */
import { describe, expect, it } from '@jest/globals';
import { CUSTOM_METRICS_PER_CLUSTER, CUSTOM_METRICS_PER_DEPLOYMENT, estimateCost, PRICES, SAMPLER_BENCHMARK } from '../../src/sandbox/simulation/cost.js';
import { simulate, type SimulationSettings } from '../../src/sandbox/simulation/model.js';
import { deploymentDefaults, runSimulation } from '../../src/sandbox/simulation/report.js';
import { SIZING_BENCHMARK } from '../../src/sandbox/simulation/sizing.js';
import { runCli } from '../support/cli.js';

const defaults = deploymentDefaults();
const settings = (overrides: Partial<SimulationSettings> = {}): SimulationSettings => ({
  ...defaults.settings,
  pods: 400,
  brokenShare: 0.05,
  hours: 24,
  seed: 7,
  replicas: 2,
  ...overrides,
});

describe('simulation model', () => {
  it('starts from the deployment defaults: 5-minute sweeps, 60%/20% of a 1 h certificate, cooldown 15 min, budget 5/h, 45-minute CronJob', () => {
    expect(defaults.settings).toEqual({
      lifetimeMinutes: 60,
      scheduleMinutes: 5,
      staleAfterShare: 0.6,
      expiringWithinShare: 0.2,
      cooldownMinutes: 15,
      budgetPerHour: 5,
      breakerShare: 0.5,
      cronJobIntervalMinutes: 45,
    });
    expect(defaults.cost).toMatchObject({ samplerMemoryMiB: 512, concurrency: 16, execLatencyMs: 100 });
  });

  it('with no broken pod the watcher restarts nothing, and nothing expires under either', () => {
    const result = simulate(settings({ brokenShare: 0 }));
    expect(result.watcher).toMatchObject({ podRestarts: 0, workloadRestarts: 0, expiries: 0, remediatorInvocations: 0, events: { unhealthy: 0, stateChanged: 0 } });
    expect(result.watcher.sweeps).toBe(24 * 12);
    expect(result.cronJob.expiries).toBe(0);
  });

  it('the CronJob restarts every pod every 45 minutes: pods × 24 h / 45 min a day', () => {
    const result = simulate(settings({ pods: 1000, brokenShare: 0.05 }));
    expect(result.cronJob.runs).toBe(32);
    expect(result.cronJob.podRestarts).toBe(1000 * 32);
    expect(result.cronJob.expiries).toBe(0);
  });

  it('with broken pods and enough budget, the watcher restarts each broken pod once and no certificate expires', () => {
    const result = simulate(settings({ brokenShare: 0.1, budgetPerHour: 1000 }));
    expect(result.brokenPods).toBe(40);
    expect(result.watcher.expiries).toBe(0);
    expect(result.watcher.workloadRestarts).toBeGreaterThan(0);
    // A broken pod needs at most one restart (the new pod rotates); some break too late to need one.
    expect(result.watcher.workloadRestarts).toBeLessThanOrEqual(result.brokenPods);
    expect(result.watcher.podRestarts).toBe(result.watcher.workloadRestarts * 2);
    expect(result.watcher.skipped).toEqual({ cooldown: 0, budget: 0, breaker: 0 });
  });

  it('without budget the watcher restarts nothing and the broken pods expire', () => {
    const result = simulate(settings({ budgetPerHour: 0 }));
    expect(result.watcher.podRestarts).toBe(0);
    expect(result.watcher.skipped.budget).toBeGreaterThan(0);
    expect(result.watcher.expiries).toBeGreaterThan(0);
    expect(result.watcher.expiries).toBeLessThanOrEqual(result.brokenPods);
  });

  it('opens the breaker instead of restarting once most of the mesh is unhealthy', () => {
    // Every pod breaks within 2 h and the budget lets one restart an hour through: unhealthy pods pile up.
    const result = simulate(settings({ brokenShare: 1, hours: 2, budgetPerHour: 1 }));
    expect(result.watcher.workloadRestarts).toBeLessThanOrEqual(2);
    expect(result.watcher.skipped.breaker).toBeGreaterThan(0);
  });

  it('is deterministic for a seed, and the seed matters', () => {
    expect(simulate(settings({ seed: 3 }))).toEqual(simulate(settings({ seed: 3 })));
    expect(simulate(settings({ seed: 3 })).watcher).not.toEqual(simulate(settings({ seed: 4 })).watcher);
  });

  it('refuses settings it cannot model', () => {
    expect(() => simulate(settings({ pods: 0 }))).toThrow(/pods/);
    expect(() => simulate(settings({ brokenShare: 1.5 }))).toThrow(/brokenShare/);
    expect(() => simulate(settings({ hours: 0 }))).toThrow(/hours/);
  });
});

describe('cost model', () => {
  const result = simulate(settings({ pods: 1000 }));

  const sampler = (cost: ReturnType<typeof estimateCost>) => cost.lines.find((l) => l.item === 'Lambda sampler compute')!;
  const metrics = (cost: ReturnType<typeof estimateCost>) => cost.lines.find((l) => l.item.startsWith('CloudWatch custom metrics'))!;

  it('bills the sampler as the benchmark measured it: overhead × N·L/C at the configured memory, every 5 minutes of a 730 h month', () => {
    const cost = estimateCost(result, defaults.cost);
    expect(cost.pods).toBe(1000);
    const sweeps = (730 * 60) / 5;
    // Due-based sampling is the deployment's default: N is the share of pods a sweep samples.
    expect(cost.sampledShare).toBe(SIZING_BENCHMARK.dueExecShareMean);
    const seconds = (SAMPLER_BENCHMARK.overheadOverFloor * 1000 * SIZING_BENCHMARK.dueExecShareMean * 0.1) / defaults.cost.concurrency;
    expect(cost.sweepsPerMonth).toBe(sweeps);
    expect(cost.samplerSecondsPerSweep).toBeCloseTo(seconds, 6);
    expect(sampler(cost).usd).toBeCloseTo(sweeps * seconds * 0.5 * PRICES.lambdaGbSecond, 6);
    expect(metrics(cost).usd).toBeCloseTo(CUSTOM_METRICS_PER_CLUSTER * 0.3, 6);
    expect(cost.totalUsd).toBeCloseTo(cost.lines.reduce((sum, l) => sum + l.usd, 0), 9);
    expect(cost.totalUsd).toBeCloseTo(cost.perClusterFixedUsd + cost.perDeploymentFixedUsd + cost.variablePer1000PodsUsd, 9);
  });

  it('bills every pod sampled every sweep when due-based sampling is off', () => {
    const { sampledShare: _due, ...everyPod } = defaults.cost;
    const cost = estimateCost(result, everyPod);
    expect(cost.sampledShare).toBe(1);
    expect(cost.samplerSecondsPerSweep).toBeCloseTo((SAMPLER_BENCHMARK.overheadOverFloor * 1000 * 0.1) / defaults.cost.concurrency, 6);
    expect(sampler(cost).usd).toBeCloseTo(sampler(estimateCost(result, defaults.cost)).usd / SIZING_BENCHMARK.dueExecShareMean, 6);
  });

  it('meets the budget at a 5-minute schedule: at most $3 fixed per cluster and $1 per 1,000 pods a month', () => {
    expect(defaults.settings.scheduleMinutes).toBe(5);
    // With the budget sized to the mesh (README: "Size the budget"): held-back restarts leave pods
    // unhealthy, and every sweep re-announces them.
    for (const pods of [100, 1000, 10_000]) {
      const cost = estimateCost(simulate(settings({ pods, brokenShare: 0.05, budgetPerHour: Math.max(5, pods / 100) })), defaults.cost);
      expect(cost.perClusterFixedUsd).toBeLessThanOrEqual(3);
      expect(cost.variablePer1000PodsUsd).toBeLessThanOrEqual(1);
    }
    // Per cluster: the sampler's seven metrics with the one [Cluster] dimension.
    expect(CUSTOM_METRICS_PER_CLUSTER).toBe(7);
  });

  it('bills the rotation metrics once per deployment ([Source], no Cluster), not per cluster', () => {
    const cost = estimateCost(result, defaults.cost);
    const rotation = cost.lines.find((l) => l.item === 'CloudWatch custom metrics (rotation)')!;
    expect(CUSTOM_METRICS_PER_DEPLOYMENT).toBe(4);
    expect(rotation).toMatchObject({ scope: 'deployment', usd: expect.closeTo(4 * 0.3, 6) });
    // With a Cluster dimension they would take the fixed cost per cluster above $3.
    expect(cost.perClusterFixedUsd + rotation.usd).toBeGreaterThan(3);
    expect(cost.perClusterFixedUsd).toBeLessThanOrEqual(3);
  });

  it('halves the sampler bill with twice the concurrency; metrics do not depend on pods', () => {
    const base = estimateCost(result, defaults.cost);
    const faster = estimateCost(result, { ...defaults.cost, concurrency: defaults.cost.concurrency * 2 });
    expect(sampler(faster).usd).toBeCloseTo(sampler(base).usd / 2, 6);
    const big = estimateCost(result, defaults.cost, 10_000);
    expect(sampler(big).usd).toBeCloseTo(sampler(base).usd * 10, 6);
    expect(metrics(big).usd).toBe(metrics(base).usd);
    expect(big.perClusterFixedUsd).toBeCloseTo(base.perClusterFixedUsd, 9);
  });

  it('reports restarts per day and the CronJob ratio', () => {
    const report = runSimulation(settings({ pods: 1000, hours: 48 }), defaults.cost);
    expect(report.perDay.cronJobPodRestarts).toBe(32_000);
    expect(report.ratio).toBeCloseTo(report.result.cronJob.podRestarts / report.result.watcher.podRestarts, 9);
    expect(report.ratio).toBeGreaterThan(100);
  });
});

describe('mesh-cert-watch simulate', () => {
  const cli = runCli;


  it('prints the comparison, the ratio and the cost with the prices used', async () => {
    const run = await cli(['simulate', '--pods', '300', '--broken', '5%', '--hours', '12', '--seed', '2']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/pod restarts per day\s+\d+\s+9,600/);
    expect(run.stdout).toMatch(/certificates that reached expiry\s+\d+\s+0/);
    expect(run.stdout).toMatch(/the CronJob restarts [\d.,]+× as many pods as the watcher/);
    expect(run.stdout).toMatch(/cost of 300 pods per month: \$\d+\.\d\d \(one cluster/);
    expect(run.stdout).toMatch(/per cluster, whatever its size:\s+\$\d\.\d\d/);
    expect(run.stdout).toMatch(/for 300 pods:\s+\$\d\.\d\d/);
    expect(run.stdout).toMatch(/fixed \$\d\.\d\d per cluster \+ \$\d\.\d\d per 1,000 pods \+ \$\d\.\d\d per deployment/);
    expect(run.stdout).toContain('$0.0000166667/GB-s');
    expect(run.stdout).toMatch(/total\s+\$\d+\.\d\d/);
  });

  it('prints JSON, and the same seed gives the same figures', async () => {
    const args = ['simulate', '--pods', '200', '--broken', '0.1', '--hours', '6', '--seed', '5', '-o', 'json'];
    const first = JSON.parse((await cli(args)).stdout) as { result: { brokenPods: number }; ratio: number | null };
    expect(first.result.brokenPods).toBe(20);
    expect((await cli(args)).stdout).toBe(JSON.stringify(first, null, 2) + '\n');
    const none = JSON.parse((await cli(['simulate', '--pods', '10', '--broken', '0%', '--hours', '1', '-o', 'json'])).stdout) as { ratio: number | null };
    expect(none.ratio).toBeNull();
  });

  it('refuses bad options with exit code 2', async () => {
    expect(await cli(['simulate', '--broken', '150%'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--broken') });
    expect(await cli(['simulate', '--pods', 'many'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--pods') });
    expect(await cli(['simulate', '--exec-latency', 'fast'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--exec-latency') });
  });
});
