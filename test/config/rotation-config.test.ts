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
});
