/**
 * `mesh-cert-watch demo` end to end: the real sampler, remediator and notifier handlers against
 * the scripted sock-shop cluster, dynalite, the local event bus and the local Slack server. The
 * story must hold: a node whose tbot agent runs an affected release (18.5.0); its pods stop
 * rotating; the remediator restarts that node's agent (not the applications), the pods rotate,
 * Slack names the exact upgrade; after the operator's upgrade the resolved message follows. And
 * the workload restart that does work (payment's file certificates), and nothing may leave the
 * machine (no AWS credentials, only loopback connections). The sampler keeps rotation history (in
 * memory, as the deployed one keeps it in S3), so the failure is proven at the first missed renewal.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { CUSTOM_METRICS, DEPLOYMENT_CUSTOM_METRICS, LOG_MESSAGES, NOTIFIER_METRICS } from '../../src/config/metric-names.js';
import { LOG_BYTES_PER_POD_LINE } from '../../src/sandbox/simulation/cost.js';
import { demoTotals, renderSummary, renderSweep } from '../../src/sandbox/demo/render-demo.js';
import { runDemo, type DemoResult } from '../../src/sandbox/demo/run-demo.js';
import { runCli } from '../support/cli.js';
import { remediatorEventPattern } from '../../src/config/event-patterns.js';
import { matchesEventPattern } from '../../src/sandbox/emulator/event-pattern-matcher.js';

const AWS_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED'];

let result: DemoResult;
const contacted = new Set<string>();
const savedEnv = new Map<string, string | undefined>();
const originalConnect = net.Socket.prototype.connect;

beforeAll(async () => {
  for (const name of AWS_VARIABLES) savedEnv.set(name, process.env[name]);
  for (const name of AWS_VARIABLES) delete process.env[name];
  // Any credential lookup would find nothing: no files, no instance metadata.
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  // Every TCP connection the demo opens, wherever it comes from (SDK, client-node, fetch).
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0] as { host?: string; path?: string } | number | string;
    contacted.add(typeof first === 'object' && first !== null ? (first.host ?? first.path ?? 'localhost') : String(args[1] ?? 'localhost'));
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  try {
    result = await runDemo({ sweeps: 10 });
  } finally {
    net.Socket.prototype.connect = originalConnect;
  }
});

afterAll(() => {
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const slackTexts = (): string[] => result.sweeps.flatMap((s) => s.slack.map((p) => p.text));

describe('the demo story', () => {
  it('runs every sweep through the sampler on the accelerated clock', () => {
    expect(result.sweeps.map((s) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result.sweeps[1]!.at.getTime() - result.sweeps[0]!.at.getTime()).toBe(5 * 60_000);
    expect(result.intro.podCount).toBe(14);
    for (const sweep of result.sweeps) expect(sweep.report.summary.sampled).toBe(14);
    // The one pod whose Envoy admin does not answer is unreachable from the first sweep on.
    expect(result.sweeps[0]!.report.pods.find((p) => p.name.startsWith('shipping-'))).toMatchObject({ state: 'unreachable' });
  });

  it('restarts the Deployment whose agent serves stale files, and its pods are replaced with fresh certificates', () => {
    const restart = result.sweeps.flatMap((s) => s.remediation).find((d) => d.outcome === 'restarted' && d.workload.name === 'payment');
    // Pushes stopped while the agent serves workload-certs files: definite at `stale` (actOnProvenStale).
    expect(restart).toMatchObject({ dryRun: false, action: 'rollout-restart', reason: 'stale', workload: { kind: 'Deployment', name: 'payment' } });
    expect(restart!.restartedAt).toMatch(/^2026-03-02T09:05:02Z$/);
    const sweep = result.sweeps.find((s) => s.replacements.some((r) => r.workload === 'payment'))!;
    const replaced = sweep.replacements.find((r) => r.workload === 'payment')!;
    expect(replaced.created).toHaveLength(2);
    const next = result.sweeps[sweep.index]!;
    const newPods = next.report.pods.filter((p) => replaced.created.includes(p.name));
    expect(newPods.map((p) => p.state)).toEqual(['healthy', 'healthy']);
    expect(next.report.pods.some((p) => replaced.removed.includes(p.name))).toBe(false);
  });

  it('proves the missed renewal at the first sweep after it (22 min after issuance), from the rotation history', () => {
    const node = result.intro.affectedNode;
    const onNode = (sweep: (typeof result.sweeps)[number]) => sweep.report.pods.filter((p) => p.node === node && p.source === 'tbot');
    // Issued at 08:53 when the agent's SDS streams opened; renewal due at 09:13 (tbot renews every 20 min).
    for (const sweep of result.sweeps.slice(0, 3)) {
      expect(onNode(sweep).map((p) => [p.state, p.findings])).toEqual(Array(4).fill(['healthy', ['tbot-outdated']]));
    }
    const proven = result.sweeps[3]!;
    expect(proven.at.toISOString()).toBe('2026-03-02T09:15:00.000Z');
    const pods = onNode(proven);
    expect(pods.map((p) => [p.state, p.findings, p.rotation?.provenAcrossSweeps, p.rotatedSinceLastSweep])).toEqual(
      Array(4).fill(['stale', ['sds-push-without-rotation', 'tbot-outdated'], true, false]),
    );
    for (const pod of pods) {
      expect((proven.at.getTime() - Date.parse(pod.certificate!.notBefore)) / 60_000).toBe(22);
      expect(pod.rotation!.expectedRenewalAt).toBe('2026-03-02T09:13:00.000Z');
      // tbot pushed at the renewal point: a new version_info, the same serial as the sweep before.
      expect(pod.previous!.serialNumber).toBe(pod.certificate!.serialNumber);
      expect(pod.previous!.versionInfo).not.toBe(pod.secrets.find((s) => s.name === 'default')!.versionInfo);
    }
    expect(proven.report.rotations).toMatchObject({ overdue: 4, provenAcrossSweeps: 4 });
  });

  it("restarts the affected node's tbot agent at that sweep instead of the workloads: its pods rotate, no tbot pod restarts, Slack names the upgrade", () => {
    const node = result.intro.affectedNode;
    expect(result.intro.affectedVersion).toBe('18.5.0');
    const agentRestarts = result.sweeps.flatMap((s) => s.agentRestarts);
    const restarted = agentRestarts.filter((d) => d.outcome === 'restarted');
    expect(restarted).toHaveLength(1);
    // Definite at `stale` (proven across sweeps): actOnProvenStale, a deployment default.
    expect(result.intro.policy.actOnProvenStale).toBe(true);
    expect(restarted[0]).toMatchObject({ node, version: '18.5.0', reason: 'stale', upgradeAdvice: `upgrade tbot on node ${node} (18.5.0 → 18.6.4)` });
    // The node's other pods' events in that sweep were observed before the restart: not a second one.
    expect(agentRestarts.filter((d) => d.outcome !== 'restarted').map((d) => d.reason)).toEqual(['stale-event', 'stale-event', 'stale-event']);
    const sweep = result.sweeps.find((s) => s.agentRestarts.some((d) => d.outcome === 'restarted'))!;
    expect(sweep.at.toISOString()).toBe('2026-03-02T09:15:00.000Z');
    const before = sweep.report.pods.filter((p) => p.node === node && p.source === 'tbot');
    // Every pod the restart fixes, in every Agent Restart of that sweep, the triggering pod first.
    for (const detail of sweep.agentRestarts) {
      expect(detail.pods.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(before.map((p) => `${p.namespace}/${p.name}`).sort());
      expect(detail.pods.every((p) => p.state === 'stale')).toBe(true);
    }
    expect(sweep.agentReplacements).toEqual([expect.objectContaining({ node, removed: restarted[0]!.agentPod, version: '18.5.0', ready: true })]);
    // The next sweep: every tbot pod on the node holds a new leaf; none was restarted.
    const next = result.sweeps[sweep.index]!;
    const after = next.report.pods.filter((p) => p.node === node && p.source === 'tbot');
    expect(after.map((p) => p.name).sort()).toEqual(before.map((p) => p.name).sort());
    for (const pod of after) {
      expect(pod.state).toBe('healthy');
      expect(pod.rotatedSinceLastSweep).toBe(true);
      expect(pod.certificate!.serialNumber).not.toBe(before.find((p) => p.name === pod.name)!.certificate!.serialNumber);
    }
    expect(result.sweeps.flatMap((s) => s.remediation).filter((d) => d.outcome === 'restarted').map((d) => d.workload.name)).toEqual(['payment', 'payment']);
    expect(demoTotals(result).podsReplacedOnAffectedNode).toBe(0);
    const post = sweep.slack.map((p) => p.text).join('\n');
    expect(post).toContain(`tbot agent on node ${node}: restarted ${restarted[0]!.agentPod} (tbot 18.5.0), no application pod restarted`);
    expect(post.toLowerCase()).toContain(`upgrade tbot on node ${node} (18.5.0 → 18.6.4)`);
    // Never the old, wrong stories.
    expect(slackTexts().join('\n')).not.toMatch(/same cached|does not help|did not fix/);
  });

  it('posts the resolved ✅ message once the operator upgraded tbot, and rotations resume', () => {
    const node = result.intro.affectedNode;
    const upgraded = result.sweeps.find((s) => s.operator.length > 0)!;
    expect(upgraded.operator[0]).toContain(`upgraded the tbot DaemonSet to 18.6.4, as Slack advised ("upgrade tbot on node ${node} (18.5.0 → 18.6.4)")`);
    expect(upgraded.agentReplacements).toEqual([expect.objectContaining({ node, version: '18.6.4' })]);
    const resolved = upgraded.slack.map((p) => p.text).join('\n');
    expect(resolved).toContain('✅ Resolved');
    expect(resolved).toMatch(/StatefulSet orders-db: 1 pod healthy again \(was healthy, `tbot-outdated`\)/);
    const onNode = upgraded.report.pods.filter((p) => p.node === node && p.source === 'tbot');
    expect(onNode.every((p) => p.state === 'healthy' && p.findings.length === 0 && p.agent?.version === '18.6.4')).toBe(true);
    expect(upgraded.report.agents?.every((a) => !a.outdated)).toBe(true);
    expect(upgraded.at.toISOString()).toBe('2026-03-02T09:25:00.000Z');
    // Rotation resumes on the upgraded agent: 20 min later every pod on the node has a renewed leaf.
    const renewed = result.sweeps.find((s) => s.at.getTime() === upgraded.at.getTime() + 20 * 60_000)!;
    const rotated = renewed.report.pods.filter((p) => p.node === node && p.source === 'tbot');
    expect(rotated.map((p) => [p.state, p.rotatedSinceLastSweep])).toEqual(Array(4).fill(['healthy', true]));
    for (const pod of rotated) expect(Date.parse(pod.certificate!.notBefore) - Date.parse(pod.previous!.notBefore)).toBe(20 * 60_000);
    expect(renewed.report.rotations!.bySource.tbot).toMatchObject({ intervalSecondsP50: 1200 });
    expect(renewed.metricDataPoints['RotationIntervalMinutes{Source=tbot}']!.filter((v) => v === 20).length).toBeGreaterThanOrEqual(4);
  });

  it('routes events with the stack rule patterns: restartable Unhealthy to the remediator, changes to the notifier, complete sweeps nowhere', () => {
    const routed = result.sweeps.flatMap((s) => [...s.events, ...s.restartEvents]);
    for (const { event, rules } of routed) {
      const detail = event.detail as { state?: string; partial?: boolean; failed?: boolean };
      switch (event['detail-type']) {
        case 'Pod Certificate Unhealthy':
          expect([event.detail.name, rules]).toEqual([event.detail.name, matchesEventPattern(remediatorEventPattern(['expiring', 'expired']), event) ? ['remediator'] : []]);
          break;
        case 'Pod Certificate State Changed':
        case 'Workload Restart':
        case 'Agent Restart':
          expect(rules).toEqual(['notifier']);
          break;
        case 'Sweep Completed':
          expect([detail.partial, detail.failed, rules]).toEqual([false, false, []]);
          break;
        default:
          throw new Error(`unexpected detail-type ${event['detail-type']}`);
      }
    }
    expect(routed.filter((r) => r.rules.includes('remediator')).length).toBe(result.sweeps.reduce((n, s) => n + s.remediation.length + s.agentRestarts.length, 0));
  });

  it('emits exactly the custom metrics the dashboard and alarms read, and the handlers log no warning or error', () => {
    // Per cluster: the seven [Cluster] metrics. Per deployment: the rotation metrics, [Source] only.
    const perDeployment = ['RotationIntervalMinutes{Source=tbot}', 'RotationsObserved{Source=istio-agent}', 'RotationsObserved{Source=tbot}'];
    for (const metric of perDeployment) expect(DEPLOYMENT_CUSTOM_METRICS).toContain(metric);
    // Per channel: the notifier's two [Channel] metrics.
    const perChannel = Object.values(NOTIFIER_METRICS).map((name) => `MeshCertWatch/${name}{Channel=slack}`);
    expect(result.metrics).toEqual([...CUSTOM_METRICS.map((name) => `MeshCertWatch/${name}{Cluster=demo-eks}`), ...perDeployment.map((m) => `MeshCertWatch/${m}`), ...perChannel].sort());
    // The rotations the report counted are the metric's data points; one interval per rotation.
    for (const sweep of result.sweeps.slice(1)) {
      const tbot = sweep.report.rotations!.bySource.tbot!;
      expect(sweep.metricDataPoints['RotationsObserved{Source=tbot}']).toEqual([tbot.observed]);
      expect(sweep.metricDataPoints['RotationIntervalMinutes{Source=tbot}'] ?? []).toHaveLength(tbot.observed);
    }
    expect(result.sweeps[0]!.metricDataPoints).not.toHaveProperty(['RotationsObserved{Source=tbot}']);
    expect(result.sweeps[0]!.metricValues).toMatchObject({ PodsSampled: 14, PodsUnreachable: 1 });
    expect(result.sweeps.flatMap((s) => s.logProblems)).toEqual([]);
  });

  it('logs a line per unhealthy pod per sweep, each within the size the cost model assumes', () => {
    for (const sweep of result.sweeps) {
      const lines = sweep.logRecords.filter((r) => r.fn === 'sampler' && r.record.message === LOG_MESSAGES.podUnhealthy);
      expect(lines.map((l) => l.record.pod).sort()).toEqual(sweep.report.pods.filter((p) => p.state !== 'healthy').map((p) => p.name).sort());
      for (const line of sweep.logRecords.filter((r) => r.record.message === LOG_MESSAGES.podUnhealthy || r.record.message === LOG_MESSAGES.podStateChanged)) {
        expect(Buffer.byteLength(JSON.stringify(line.record)) + 26).toBeLessThanOrEqual(LOG_BYTES_PER_POD_LINE);
      }
    }
    const outcomes = result.sweeps.flatMap((s) => s.logRecords.filter((r) => r.record.message === LOG_MESSAGES.restartOutcome));
    expect(outcomes.length).toBe(result.sweeps.reduce((n, s) => n + s.remediation.length, 0));
    const agentOutcomes = result.sweeps.flatMap((s) => s.logRecords.filter((r) => r.record.message === LOG_MESSAGES.agentRestartOutcome));
    expect(agentOutcomes.length).toBe(result.sweeps.reduce((n, s) => n + s.agentRestarts.length, 0));
    expect(agentOutcomes.length).toBeGreaterThan(0);
  });

  it('needs no AWS: every connection went to this machine', () => {
    expect(contacted.size).toBeGreaterThan(0);
    for (const host of contacted) expect(['127.0.0.1', 'localhost', '::1']).toContain(host);
  });

  it('counts restarts against the CronJob and prints what a user sees', () => {
    const totals = demoTotals(result);
    // payment's new pods get files that are never pushed either: restarted again one renewal point later.
    expect(totals.restarted).toEqual({ 'Deployment payment': 2 });
    expect(totals.agentsRestarted).toEqual({ [`node ${result.intro.affectedNode}`]: 1 });
    expect(totals.podsReplaced).toBe(4);
    expect(totals.cronJobPodRestarts).toBe(Math.round((14 * 50) / 45));
    expect(totals.expiredPods).toEqual([]);
    const restartSweep = result.sweeps.find((s) => s.replacements.length > 0)!;
    const printed = renderSweep(restartSweep, { total: 10 });
    expect(printed).toMatch(/^━━ sweep 2\/10 · 09:05 UTC/);
    expect(printed).toMatch(/NAMESPACE\s+NAME\s+WORKLOAD\s+STATE/);
    expect(printed).toMatch(/Pod Certificate Unhealthy\s+sock-shop\/payment-\S+\s+stale \[sds-pushes-stopped,workload-certs-volume\]\s+⇒ remediator/);
    expect(printed).toContain('controller: Deployment sock-shop/payment rolled out');
    expect(printed).toContain('  │ 🔁 Restarts · demo-eks / sock-shop');
    expect(renderSweep(result.sweeps[6]!, { total: 10, quiet: true })).toBe('');
    expect(renderSummary(result)).toContain('restarts: 2 rollout restarts (Deployment payment ×2), 4 pods replaced');
    expect(renderSummary(result)).toContain(`tbot agent restarts: node ${result.intro.affectedNode} ×1; tbot pods restarted on node ${result.intro.affectedNode} (tbot 18.5.0): 0`);
    const agentSweep = result.sweeps.find((s) => s.agentReplacements.length > 0)!;
    expect(renderSweep(agentSweep, { total: 10 })).toContain(`controller: DaemonSet teleport-system/tbot recreated`);
    // One row per decision: the triggering pod, and how many more pods of the node the restart fixes.
    expect(renderSweep(agentSweep, { total: 10 })).toMatch(/sock-shop\s+\S+ \(\+3 on the node\)\s+stale\s+tbot-agent\/tbot-\S+ \(node \S+\)\s+restarted\s+stale/);
  });
});

describe('mesh-cert-watch demo', () => {
  const cli = runCli;


  it('prints the scenario, each sweep and the summary', async () => {
    const run = await cli(['demo', '--sweeps', '7']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Scripted problems:');
    expect(run.stdout).toContain('━━ sweep 1/7 · 09:00 UTC');
    expect(run.stdout).toContain('rotations: no previous observation yet (first sweep with this history)');
    // Due-based sampling (the deployment default): a sweep compares only the pods it sampled.
    expect(run.stdout).toMatch(/rotations: \d+ of \d+ pods rotated since the last sweep \(tbot \d+, interval p50 20m/);
    expect(run.stdout).toContain('overdue 4, proven across sweeps 4');
    expect(run.stdout).toContain('━━ sweep 7/7 · 09:30 UTC · no change');
    expect(run.stdout).toContain('━━ after 7 sweeps (35m simulated)');
  });

  it('refuses a bad --sweeps with exit code 2, and documents its options', async () => {
    expect(await cli(['demo', '--sweeps', '0'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--sweeps') });
    expect((await cli(['help', 'demo'])).stdout).toContain('--quiet');
  });
});
