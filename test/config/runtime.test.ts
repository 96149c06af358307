import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../src/core/model/errors.js';
import {
  notifierRuntimeConfig,
  parseRuntimeConfig,
  remediatorRuntimeConfig,
  RUNTIME_CONFIG_ENV,
  samplerRuntimeConfig,
  type NotifierRuntimeConfigInput,
  type RemediatorRuntimeConfigInput,
  type SamplerRuntimeConfigInput,
} from '../../src/config/runtime.js';

const sampler: SamplerRuntimeConfigInput = {
  eventBusName: 'mesh-cert-watch',
  ledgerTableName: 'ledger',
  clusters: [
    {
      name: 'prod',
      region: 'eu-west-1',
      namespaces: { include: [], exclude: ['kube-system'] },
      thresholds: { staleAfter: '60%', expiringWithin: '36m' },
      concurrency: 8,
      sampleTimeoutSeconds: 15,
    },
  ],
  sweepDeadlineMarginSeconds: 20,
};
const remediator: RemediatorRuntimeConfigInput = {
  eventBusName: 'mesh-cert-watch',
  budgetTableName: 'budget',
  policy: { restartStates: ['expiring', 'expired'], cooldownMinutes: 15, budgetPerHour: 5, breakerUnhealthyShare: 0.5, dryRun: false, deleteBarePods: false },
  clusters: [{ name: 'prod', region: 'eu-west-1' }],
};
const notifier: NotifierRuntimeConfigInput = {
  destinations: [{ channel: 'slack', secretId: 'slack/webhook', minimumSeverity: 'stale' }],
  dashboardUrl: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/mesh-cert-watch',
  maxMessagesPerSecond: 1,
  deliveryTableName: 'notifications',
};

const env = (value: unknown) => ({ [RUNTIME_CONFIG_ENV]: JSON.stringify(value) });

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('parseRuntimeConfig', () => {
  it('delivers the sampler thresholds parsed by the engine', () => {
    const config = parseRuntimeConfig(samplerRuntimeConfig, env(sampler));
    expect(config.clusters[0]?.thresholds).toEqual({
      staleAfter: { kind: 'percent', percent: 60, text: '60%' },
      expiringWithin: { kind: 'duration', seconds: 2160, text: '36m' },
      clockSkewAllowanceSeconds: 60,
    });
  });

  it('reads the clock-skew allowance in seconds, names it when wrong, and defaults it for configurations written before it existed', () => {
    const withAllowance = (clockSkewAllowance: string) => ({ ...sampler, clusters: [{ ...sampler.clusters[0]!, thresholds: { ...sampler.clusters[0]!.thresholds, clockSkewAllowance } }] });
    expect(parseRuntimeConfig(samplerRuntimeConfig, env(withAllowance('5m'))).clusters[0]?.thresholds.clockSkewAllowanceSeconds).toBe(300);
    expect(parseRuntimeConfig(samplerRuntimeConfig, env(withAllowance('0'))).clusters[0]?.thresholds.clockSkewAllowanceSeconds).toBe(0);
    expect(errorOf(() => parseRuntimeConfig(samplerRuntimeConfig, env(withAllowance('soon')))).message).toMatch(
      /^MESH_CERT_WATCH_CONFIG\.clusters\[0\]\.thresholds\.clockSkewAllowance: invalid clock-skew allowance "soon"/,
    );
  });

  it('accepts the remediator policy and a catch-all notifier destination, and needs at least one destination', () => {
    expect(parseRuntimeConfig(remediatorRuntimeConfig, env(remediator)).policy.restartStates).toEqual(['expiring', 'expired']);
    expect(parseRuntimeConfig(notifierRuntimeConfig, env(notifier)).destinations).toEqual([{ channel: 'slack', secretId: 'slack/webhook', minimumSeverity: 'stale' }]);
    expect(errorOf(() => parseRuntimeConfig(notifierRuntimeConfig, env({ ...notifier, destinations: [] }))).setting).toBe('MESH_CERT_WATCH_CONFIG.destinations');
    expect(errorOf(() => parseRuntimeConfig(notifierRuntimeConfig, env({ ...notifier, destinations: [{ channel: 'email', secretId: 's', minimumSeverity: 'stale' }] }))).setting).toBe(
      'MESH_CERT_WATCH_CONFIG.destinations[0].channel',
    );
  });

  it('defaults the notifier delivery lease and secret cache, and requires the delivery table', () => {
    const config = parseRuntimeConfig(notifierRuntimeConfig, env(notifier));
    expect([config.deliveryTableName, config.deliveryLeaseSeconds, config.secretCacheSeconds]).toEqual(['notifications', 120, 300]);
    const { deliveryTableName: _table, ...withoutTable } = notifier;
    expect(errorOf(() => parseRuntimeConfig(notifierRuntimeConfig, env(withoutTable))).setting).toBe('MESH_CERT_WATCH_CONFIG.deliveryTableName');
  });

  it('names the exact setting of a missing field', () => {
    const { region: _region, ...clusterWithoutRegion } = sampler.clusters[0]!;
    const error = errorOf(() => parseRuntimeConfig(samplerRuntimeConfig, env({ ...sampler, clusters: [clusterWithoutRegion] })));
    expect(error.message).toBe('MESH_CERT_WATCH_CONFIG.clusters[0].region: Required');
    expect(error.setting).toBe('MESH_CERT_WATCH_CONFIG.clusters[0].region');
    expect(error.code).toBe('CONFIG');
  });

  it('names the exact setting of an invalid value', () => {
    const bad = { ...sampler, clusters: [{ ...sampler.clusters[0], thresholds: { staleAfter: 'soon', expiringWithin: '20%' } }] };
    expect(errorOf(() => parseRuntimeConfig(samplerRuntimeConfig, env(bad))).message).toMatch(
      /^MESH_CERT_WATCH_CONFIG\.clusters\[0\]\.thresholds\.staleAfter: invalid threshold "soon"/,
    );
    expect(errorOf(() => parseRuntimeConfig(remediatorRuntimeConfig, env({ ...remediator, policy: { ...remediator.policy, restartStates: ['missing'] } }))).setting).toBe(
      'MESH_CERT_WATCH_CONFIG.policy.restartStates[0]',
    );
    const partialArn = { channel: 'slack', secretId: 'arn:aws:secretsmanager:x', namespaces: ['payments'], minimumSeverity: 'stale' };
    expect(errorOf(() => parseRuntimeConfig(notifierRuntimeConfig, env({ ...notifier, destinations: [...notifier.destinations, partialArn] }))).setting).toBe(
      'MESH_CERT_WATCH_CONFIG.destinations[1].secretId',
    );
  });

  it('says when the variable is missing or not JSON', () => {
    expect(errorOf(() => parseRuntimeConfig(notifierRuntimeConfig, {})).message).toMatch(/^MESH_CERT_WATCH_CONFIG: not set/);
    expect(errorOf(() => parseRuntimeConfig(notifierRuntimeConfig, { [RUNTIME_CONFIG_ENV]: '{"destinations":' })).message).toMatch(
      /^MESH_CERT_WATCH_CONFIG: not valid JSON: /,
    );
  });

  it('ignores settings it does not know, so a newer stack does not break an older handler', () => {
    expect(parseRuntimeConfig(notifierRuntimeConfig, env({ ...notifier, addedLater: true }))).not.toHaveProperty('addedLater');
  });
});
