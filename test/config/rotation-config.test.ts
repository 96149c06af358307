/**
 * The rotation settings (docs/contract.md §8) at both edges: the deployment configuration and
 * the sampler's runtime configuration. Defaults are the documented ones; a bad value is an error
 * naming the exact setting.
 */
import { describe, expect, it } from '@jest/globals';
import { parseDeploymentConfig } from '../../src/config/deployment.js';
import { parseRuntimeConfig, RUNTIME_CONFIG_ENV, samplerRuntimeConfig, type SamplerRuntimeConfigInput } from '../../src/config/runtime.js';
import { ConfigError } from '../../src/core/model/errors.js';
import { DEFAULT_RENEWAL_POLICY } from '../../src/core/judgement/history.js';
import { DEFAULT_MAX_OBSERVATION_AGE_SECONDS } from '../../src/core/judgement/due.js';
import { samplerRuntimeInput } from '../../src/config/runtime-configs.js';

const minimal = { region: 'eu-west-1', clusters: [{ name: 'prod' }], notifications: { slackWebhookSecret: 'slack/webhook' } };

function thrown(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('accepted');
}

describe('rotation settings', () => {
  it('default to tbot renewal_interval 20m, grace ratio 0.5, jitter 0.01, slack 3m, history kept 7 days', () => {
    const config = parseDeploymentConfig(minimal);
    expect(config.clusters[0]!.rotation).toEqual({ renewalInterval: '20m', istioAgentGraceRatio: 0.5, istioAgentGraceJitter: 0.01, slack: '3m' });
    expect(config.history).toEqual({ retentionDays: 7 });
  });

  it('name the bad deployment setting', () => {
    expect(thrown(() => parseDeploymentConfig({ ...minimal, clusters: [{ name: 'prod', rotation: { renewalInterval: 'soon' } }] }))).toMatch(
      /^clusters\[0\]\.rotation\.renewalInterval: must be a duration/,
    );
    expect(thrown(() => parseDeploymentConfig({ ...minimal, clusters: [{ name: 'prod', rotation: { istioAgentGraceRatio: 1.5 } }] }))).toMatch(
      /^clusters\[0\]\.rotation\.istioAgentGraceRatio: /,
    );
    expect(thrown(() => parseDeploymentConfig({ ...minimal, history: { retentionDays: 0 } }))).toMatch(/^history\.retentionDays: /);
  });

  it('default in the runtime configuration too, and name a bad runtime value under MESH_CERT_WATCH_CONFIG', () => {
    const input: SamplerRuntimeConfigInput = {
      eventBusName: 'bus',
      ledgerTableName: 'ledger',
      clusters: [{ name: 'prod', region: 'eu-west-1', namespaces: { include: [], exclude: [] }, thresholds: { staleAfter: '60%', expiringWithin: '20%' }, concurrency: 8, sampleTimeoutSeconds: 15 }],
      sweepDeadlineMarginSeconds: 20,
    };
    const parsed = parseRuntimeConfig(samplerRuntimeConfig, { [RUNTIME_CONFIG_ENV]: JSON.stringify(input) });
    expect(parsed.clusters[0]!.rotation).toEqual(DEFAULT_RENEWAL_POLICY);
    expect(parsed.historyBucketName).toBeUndefined();
    const bad = { ...input, clusters: [{ ...input.clusters[0]!, rotation: { slackSeconds: -1 } }] };
    expect(thrown(() => parseRuntimeConfig(samplerRuntimeConfig, { [RUNTIME_CONFIG_ENV]: JSON.stringify(bad) }))).toMatch(
      /^MESH_CERT_WATCH_CONFIG\.clusters\[0\]\.rotation\.slackSeconds: /,
    );
  });

  it('due-based sampling: on by default with a 20m maximum observation age, carried to the runtime configuration (0 when off)', () => {
    const config = parseDeploymentConfig(minimal);
    expect(config.clusters[0]!.sampling).toEqual({ dueBased: true, maxObservationAge: '20m' });
    const runtime = (c: ReturnType<typeof parseDeploymentConfig>) =>
      parseRuntimeConfig(samplerRuntimeConfig, { [RUNTIME_CONFIG_ENV]: JSON.stringify(samplerRuntimeInput(c, { ledgerTableName: 'ledger' })) }).clusters[0]!.sampling;
    expect(runtime(config)).toEqual({ maxObservationAgeSeconds: DEFAULT_MAX_OBSERVATION_AGE_SECONDS });
    expect(DEFAULT_MAX_OBSERVATION_AGE_SECONDS).toBe(1200);
    expect(runtime(parseDeploymentConfig({ ...minimal, clusters: [{ name: 'prod', sampling: { maxObservationAge: '45m' } }] }))).toEqual({ maxObservationAgeSeconds: 2700 });
    expect(runtime(parseDeploymentConfig({ ...minimal, clusters: [{ name: 'prod', sampling: { dueBased: false } }] }))).toEqual({ maxObservationAgeSeconds: 0 });
  });

  it('the exec budget per cluster: 50 starts a second by default, carried to the runtime configuration, a bad value named', () => {
    const budget = (clusters: unknown) =>
      parseRuntimeConfig(samplerRuntimeConfig, {
        [RUNTIME_CONFIG_ENV]: JSON.stringify(samplerRuntimeInput(parseDeploymentConfig({ ...minimal, clusters }), { ledgerTableName: 'ledger' })),
      }).clusters[0]!.maxExecStartsPerSecond;
    expect(budget([{ name: 'prod' }])).toBe(50);
    expect(budget([{ name: 'prod', maxExecStartsPerSecond: 90 }])).toBe(90);
    expect(thrown(() => parseDeploymentConfig({ ...minimal, clusters: [{ name: 'prod', maxExecStartsPerSecond: 0 }] }))).toMatch(/^clusters\[0\]\.maxExecStartsPerSecond: /);
  });

  it('name a bad sampling setting: not a duration, shorter than the sweep interval, longer than a day', () => {
    const withSampling = (sampling: unknown, schedule: unknown = {}) => () => parseDeploymentConfig({ ...minimal, clusters: [{ name: 'prod', schedule, sampling }] });
    expect(thrown(withSampling({ maxObservationAge: 'often' }))).toMatch(/^clusters\[0\]\.sampling\.maxObservationAge: must be a duration/);
    expect(thrown(withSampling({ maxObservationAge: '8m' }, { rateMinutes: 10 }))).toMatch(
      /^clusters\[0\]\.sampling\.maxObservationAge: 8m is shorter than the sweep interval \(schedule\.rateMinutes 10\)/,
    );
    expect(thrown(withSampling({ maxObservationAge: '48h' }))).toMatch(/^clusters\[0\]\.sampling\.maxObservationAge: 48h is longer than 24h/);
    expect(thrown(withSampling({ dueBased: 'yes' }))).toMatch(/^clusters\[0\]\.sampling\.dueBased: /);
    const badRuntime = {
      eventBusName: 'bus',
      ledgerTableName: 'ledger',
      clusters: [{ name: 'prod', region: 'eu-west-1', namespaces: { include: [], exclude: [] }, thresholds: { staleAfter: '60%', expiringWithin: '20%' }, concurrency: 8, sampleTimeoutSeconds: 15, sampling: { maxObservationAgeSeconds: -5 } }],
      sweepDeadlineMarginSeconds: 20,
    };
    expect(thrown(() => parseRuntimeConfig(samplerRuntimeConfig, { [RUNTIME_CONFIG_ENV]: JSON.stringify(badRuntime) }))).toMatch(
      /^MESH_CERT_WATCH_CONFIG\.clusters\[0\]\.sampling\.maxObservationAgeSeconds: /,
    );
  });
});
