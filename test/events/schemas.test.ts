import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { computeChanges } from '../../src/core/events/changes.js';
import {
  buildSweepCompletedDetail,
  buildSweepFailedDetail,
  DETAIL_TYPES,
  fitDetail,
  POD_CERTIFICATE_STATE_CHANGED,
  POD_CERTIFICATE_UNHEALTHY,
  SWEEP_COMPLETED,
  WORKLOAD_RESTART,
  AGENT_RESTART,
  type DetailType,
  type WorkloadRestartDetail,
} from '../../src/core/events/events.js';
import { parseDetail } from '../../src/core/events/parse.js';
import type { AgentPod } from '../../src/core/judgement/agents.js';
import { agentRestartDetail } from '../../src/core/remediation/agent-remediation.js';
import { budgetWindow, restartDetail } from '../../src/core/remediation/remediation.js';
import { DETAIL_SCHEMAS } from '../../src/core/events/schemas.js';
import { InvalidEventError } from '../../src/core/model/errors.js';
import { FINDINGS, STATES } from '../../src/core/model/types.js';
import { entry, NOW, pod, report } from '../core/change-fixtures.js';

const FILES: Record<DetailType, string> = {
  [POD_CERTIFICATE_UNHEALTHY]: 'pod-certificate-unhealthy',
  [POD_CERTIFICATE_STATE_CHANGED]: 'pod-certificate-state-changed',
  [SWEEP_COMPLETED]: 'sweep-completed',
  [WORKLOAD_RESTART]: 'workload-restart',
  [AGENT_RESTART]: 'agent-restart',
};

const schemas = Object.fromEntries(
  DETAIL_TYPES.map((t) => [t, JSON.parse(readFileSync(new URL(`../../src/events/schemas/${FILES[t]}.schema.json`, import.meta.url), 'utf8'))]),
) as Record<DetailType, Record<string, unknown>>;

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validators = Object.fromEntries(DETAIL_TYPES.map((t) => [t, ajv.compile(schemas[t])])) as Record<DetailType, ReturnType<typeof ajv.compile>>;

/** Valid against the generated JSON Schema (ajv) AND parsed by the zod schema the consumers use. */
function expectValid(type: DetailType, detail: unknown): void {
  const validate = validators[type];
  const json = JSON.parse(JSON.stringify(detail));
  const ok = validate(json);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  const parsed = DETAIL_SCHEMAS[type].safeParse(json);
  expect(parsed.error?.issues ?? []).toEqual([]);
  // What a consumer reads is what was sent: no field dropped or changed.
  expect(parsed.data).toEqual(json);
}

/** Refused by both; `path` matches ajv's message, `zodPath` the InvalidEventError field a consumer would report. */
function expectInvalid(type: DetailType, detail: unknown, path: RegExp, zodPath?: string): void {
  const validate = validators[type];
  const json = JSON.parse(JSON.stringify(detail));
  expect(validate(json)).toBe(false);
  expect((validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('\n')).toMatch(path);
  let error: unknown;
  try {
    parseDetail(DETAIL_SCHEMAS[type], json);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidEventError);
  if (zodPath !== undefined) expect((error as InvalidEventError).field).toBe(zodPath);
}

const previous = [entry('b-1', 'stale'), entry('c-1', 'expiring'), entry('gone-1', 'expired', ['sds-pushes-stopped'], { workload: null })];
const sweep = report([
  pod('a-1', 'expired', ['sds-pushes-stopped']),
  pod('b-1', 'expired'),
  pod('c-1', 'healthy'),
  pod('d-1', 'unreachable'),
  pod('e-1', 'missing', ['workload-certs-volume'], { workload: null }),
]);
const changes = computeChanges({ previous, report: sweep, scope: 'all' });

const restart: WorkloadRestartDetail = {
  cluster: 'prod-mesh',
  namespace: 'shop',
  workload: { kind: 'Deployment', name: 'carts' },
  outcome: 'skipped',
  reason: 'cooldown: restarted 4m ago (policy 30m)',
  pods: [{ name: 'carts-7d9f-abcde', state: 'expired', findings: ['sds-pushes-stopped'] }, { name: 'carts-7d9f-fghij', state: 'expiring' }],
  triggeredBy: 'sweep-2',
  at: NOW,
};

describe('event detail JSON schemas', () => {
  it('use the product vocabulary (no drift from src/core/model/types.ts)', () => {
    const defs = (t: DetailType) => schemas[t].definitions as Record<string, { enum?: string[] }>;
    for (const t of [POD_CERTIFICATE_UNHEALTHY, POD_CERTIFICATE_STATE_CHANGED, WORKLOAD_RESTART] as const) {
      expect(defs(t).state?.enum).toEqual([...STATES]);
      expect(defs(t).finding?.enum).toEqual([...FINDINGS]);
    }
    for (const t of DETAIL_TYPES) expect(schemas[t].title).toBe(t);
  });

  it('accept every Unhealthy detail computeChanges builds (including trimmed ones)', () => {
    expect(changes.unhealthy.length).toBe(4);
    for (const d of changes.unhealthy) expectValid(POD_CERTIFICATE_UNHEALTHY, d);
    const trimmed = fitDetail({ ...changes.unhealthy[0]!, error: 'x'.repeat(5000) }, 2000);
    expect(trimmed.truncated).toBe(true);
    expectValid(POD_CERTIFICATE_UNHEALTHY, trimmed);
  });

  it('accept every State Changed detail, present and gone', () => {
    expect(changes.changes.map((c) => c.change).sort()).toEqual(['gone', 'opened', 'opened', 'opened', 'resolved', 'worsened']);
    for (const d of changes.changes) expectValid(POD_CERTIFICATE_STATE_CHANGED, d);
  });

  it('accept Sweep Completed details: complete, partial with errors and event counts, failed', () => {
    expectValid(SWEEP_COMPLETED, buildSweepCompletedDetail(sweep));
    expectValid(SWEEP_COMPLETED, buildSweepCompletedDetail(sweep, { failed: true, sweepErrors: [{ namespace: 'x', name: null, error: 'forbidden' }] }));
    expectValid(SWEEP_COMPLETED, buildSweepCompletedDetail(report([pod('x', 'unreachable')], { partial: true }), { events: { published: 4, failed: 1 } }));
    expectValid(
      SWEEP_COMPLETED,
      buildSweepFailedDetail({ cluster: 'prod-mesh', sweepId: 's', startedAt: NOW, finishedAt: NOW, error: 'cluster unreachable' }),
    );
  });

  it('accept a hand-written Workload Restart detail', () => {
    expectValid(WORKLOAD_RESTART, restart);
  });

  it("accept what the remediator's builders make: Workload Restart and Agent Restart, with every extra", () => {
    const trigger = changes.unhealthy[0]!;
    const at = new Date(NOW);
    const breaker = { unhealthy: 3, sampled: 4, share: 0.75, threshold: 0.5 };
    const budget = { window: budgetWindow(at), limit: 3, used: 3 };
    expectValid(
      WORKLOAD_RESTART,
      restartDetail(trigger, { outcome: 'restarted', reason: 'expired', message: 'rollout restart', workload: { kind: 'Deployment', name: 'carts' }, action: 'rollout-restart', dryRun: false, at, extra: { restartedAt: NOW, budget } }),
    );
    expectValid(
      WORKLOAD_RESTART,
      restartDetail(trigger, { outcome: 'skipped', reason: 'breaker', message: 'issuer outage?', workload: { kind: 'Deployment', name: 'carts' }, action: null, dryRun: true, at, policy: 'alert', policySource: 'namespace', extra: { breaker, lastRestartAt: NOW, cooldownUntil: NOW, verification: 'not-fixed', statusCode: 409 } }),
    );
    const agent: AgentPod = { namespace: 'teleport-system', name: 'tbot-x1', uid: 'u-1', node: 'node-1', image: 'tbot:18.5.0', version: '18.5.0', ready: true, terminating: false, createdAt: NOW };
    expectValid(AGENT_RESTART, agentRestartDetail(trigger, { namespace: 'teleport-system', agent: null, outcome: 'skipped', reason: 'agent-busy', message: 'one at a time', dryRun: false, at, extra: { breaker, budget, cooldownUntil: NOW } }));
    expectValid(
      AGENT_RESTART,
      agentRestartDetail(trigger, { namespace: 'teleport-system', agent, outcome: 'restarted', reason: 'stale', message: 'deleted', dryRun: false, at }),
    );
  });

  it('reject an Unhealthy detail with an unknown state', () => {
    expectInvalid(POD_CERTIFICATE_UNHEALTHY, { ...changes.unhealthy[0]!, state: 'dead' }, /\/state must be equal to one of the allowed values/, 'detail.state');
  });

  it('reject an Unhealthy detail without the sweepSummary the remediator needs', () => {
    const { sweepSummary: _, ...withoutSummary } = changes.unhealthy[0]!;
    expectInvalid(POD_CERTIFICATE_UNHEALTHY, withoutSummary, /must have required property 'sweepSummary'/, 'detail.sweepSummary');
  });

  it('reject a State Changed detail without previousState, and a gone detail carrying a state', () => {
    const present = changes.changes.find((c) => c.change === 'worsened')!;
    const { previousState: _, ...withoutPrevious } = present;
    expectInvalid(POD_CERTIFICATE_STATE_CHANGED, withoutPrevious, /must have required property 'previousState'/);
    const gone = changes.changes.find((c) => c.change === 'gone')!;
    expectInvalid(POD_CERTIFICATE_STATE_CHANGED, { ...gone, state: 'expired' }, /\/state must be null/, 'detail.state');
  });

  it('reject a Sweep Completed detail with a negative count or without the failed flag', () => {
    const detail = buildSweepCompletedDetail(sweep);
    expectInvalid(SWEEP_COMPLETED, { ...detail, summary: { ...detail.summary, expired: -1 } }, /\/summary\/expired must be >= 0/, 'detail.summary.expired');
    const { failed: _, ...noFailed } = detail;
    expectInvalid(SWEEP_COMPLETED, noFailed, /must have required property 'failed'/);
  });

  it('reject a Workload Restart detail with an unknown outcome or no workload', () => {
    expectInvalid(WORKLOAD_RESTART, { ...restart, outcome: 'rebooted' }, /\/outcome must be equal to one of the allowed values/, 'detail.outcome');
    const { workload: _, ...noWorkload } = restart;
    expectInvalid(WORKLOAD_RESTART, noWorkload, /must have required property 'workload'/);
  });

  it('accept the rotation-history fields (previous, rotatedSinceLastSweep, rotation, rotations) and reject a rotation without its proof flag', () => {
    const previous = {
      serialNumber: '0A0B0C',
      fingerprintSha256: '01:02',
      notBefore: '2025-06-01T10:40:00.000Z',
      notAfter: '2025-06-01T11:40:00.000Z',
      versionInfo: '2025-06-01T11:00:00.123456789Z',
      lastUpdated: null,
      observedAt: '2025-06-01T11:55:00.000Z',
    };
    const rotation = { expectedRenewalAt: '2025-06-01T11:20:00.000Z', overdueSeconds: 2400, provenAcrossSweeps: true };
    const withHistory = pod('h-1', 'stale', ['sds-push-without-rotation'], { previous, rotatedSinceLastSweep: false, rotation });
    const historySweep = {
      ...report([withHistory]),
      rotations: {
        observed: 1,
        compared: 2,
        overdue: 1,
        provenAcrossSweeps: 1,
        bySource: { tbot: { observed: 1, compared: 2, overdue: 1, intervalSecondsP50: 1200, intervalSecondsMax: 1200 }, unknown: { observed: 0, compared: 0, overdue: 0, intervalSecondsP50: null, intervalSecondsMax: null } },
      },
    };
    const historyChanges = computeChanges({ previous: [], report: historySweep, scope: 'all' });
    expect(historyChanges.unhealthy[0]!.rotation).toEqual(rotation);
    expectValid(POD_CERTIFICATE_UNHEALTHY, historyChanges.unhealthy[0]);
    expectValid(POD_CERTIFICATE_STATE_CHANGED, historyChanges.changes[0]);
    const completed = buildSweepCompletedDetail(historySweep);
    expect(completed.rotations?.bySource.tbot?.intervalSecondsP50).toBe(1200);
    expectValid(SWEEP_COMPLETED, completed);
    const { provenAcrossSweeps: _, ...noProof } = rotation;
    expectInvalid(POD_CERTIFICATE_UNHEALTHY, { ...historyChanges.unhealthy[0]!, rotation: noProof }, /\/rotation must have required property 'provenAcrossSweeps'/);
    expectInvalid(POD_CERTIFICATE_UNHEALTHY, { ...historyChanges.unhealthy[0]!, previous: { ...previous, notBefore: 'then' } }, /\/previous\/notBefore must match format "date-time"/);
    expectInvalid(SWEEP_COMPLETED, { ...completed, rotations: { ...completed.rotations, observed: -1 } }, /\/rotations\/observed must be >= 0/);
  });

  it('reject timestamps that are not RFC 3339', () => {
    expectInvalid(POD_CERTIFICATE_UNHEALTHY, { ...changes.unhealthy[0]!, observedAt: 'yesterday' }, /\/observedAt must match format "date-time"/, 'detail.observedAt');
  });
});
