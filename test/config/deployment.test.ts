import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/core/model/errors.js';
import { notificationDestinations, parseDeploymentConfig, type DeploymentConfigInput } from '../../src/config/deployment.js';

const minimal: DeploymentConfigInput = { region: 'eu-west-1', clusters: [{ name: 'prod' }], notifications: { slackWebhookSecret: 'slack/webhook' } };

/** The ConfigError message for `input`, or a failure when it is accepted. */
function errorFor(input: unknown): string {
  try {
    parseDeploymentConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('configuration was accepted');
}

const withCluster = (cluster: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...minimal,
  clusters: [{ name: 'first' }, { name: 'second', ...cluster }],
  ...extra,
});

describe('parseDeploymentConfig: tbot agents', () => {
  it('takes where tbot runs per cluster and names a bad setting', () => {
    const config = parseDeploymentConfig(withCluster({ tbot: { namespace: 'spire-system', labelSelector: 'app.kubernetes.io/name in (tbot)' } }));
    expect(config.clusters[1]?.tbot).toEqual({ namespace: 'spire-system', labelSelector: 'app.kubernetes.io/name in (tbot)' });
    expect(errorFor(withCluster({ tbot: { namespace: 'Teleport_System' } }))).toContain('clusters[1].tbot.namespace');
    expect(errorFor(withCluster({ tbot: { labelSelector: 'app=tbot;x' } }))).toContain('clusters[1].tbot.labelSelector');
    expect(errorFor(withCluster({ tbot: { selector: 'app=tbot' } }))).toContain('clusters[1].tbot');
  });
});

describe('parseDeploymentConfig', () => {
  it('applies every default to the minimal configuration', () => {
    const config = parseDeploymentConfig(minimal);
    expect(config.name).toBe('mesh-cert-watch');
    expect(config.clusters[0]).toMatchObject({
      name: 'prod',
      schedule: { rateMinutes: 5, retryAttempts: 1 },
      namespaces: { include: [], exclude: [] },
      certificateTtl: '1h',
      concurrency: 16,
      sampleTimeoutSeconds: 15,
      accessEntries: true,
      tbot: { namespace: 'teleport-system', labelSelector: 'app=tbot' },
    });
    expect([config.clusters[0]?.thresholds.staleAfter.text, config.clusters[0]?.thresholds.expiringWithin.text]).toEqual(['60%', '20%']);
    expect(config.functions).toEqual({
      runtime: 'nodejs22.x',
      logRetentionDays: 30,
      sampler: { timeoutSeconds: 240, memoryMiB: 512, sweepDeadlineMarginSeconds: 20 },
      remediator: { timeoutSeconds: 60, memoryMiB: 256 },
      notifier: { timeoutSeconds: 30, memoryMiB: 256 },
    });
    expect(config.remediation).toEqual({
      restartStates: ['expiring', 'expired'],
      cooldownMinutes: 15,
      budgetPerHour: 5,
      breakerUnhealthyShare: 0.5,
      dryRun: true,
      deleteBarePods: false,
      actOnProvenStale: true,
      agentRestarts: true,
    });
    expect(config.alarms).toEqual({ samplingErrorShare: 0.2, missedSweeps: 3 });
  });

  it('accepts the example configuration shipped in lib/config', () => {
    const example = JSON.parse(readFileSync(new URL('../../lib/config/example.config.json', import.meta.url), 'utf8')) as unknown;
    expect(parseDeploymentConfig(example).clusters.map((cluster) => cluster.name)).toEqual(['prod-eu-1', 'staging-eu-1']);
  });

  it('takes a clock-skew allowance from 0s to 1h, 1m by default, and hands it to the sampler in seconds', () => {
    expect(parseDeploymentConfig(withCluster({ thresholds: { clockSkewAllowance: '0s' } })).clusters[1]?.thresholds.clockSkewAllowance).toBe(0);
    expect(parseDeploymentConfig(withCluster({ thresholds: { clockSkewAllowance: '5m' } })).clusters[1]?.thresholds.clockSkewAllowance).toBe(300);
    expect(parseDeploymentConfig(withCluster({})).clusters[1]?.thresholds.clockSkewAllowance).toBe(60);
  });

  it('parses thresholds with the engine parser (durations and shares)', () => {
    const config = parseDeploymentConfig(withCluster({ thresholds: { staleAfter: '36m', expiringWithin: '12.5%' } }));
    expect(config.clusters[1]?.thresholds).toEqual({
      staleAfter: { kind: 'duration', seconds: 2160, text: '36m' },
      expiringWithin: { kind: 'percent', percent: 12.5, text: '12.5%' },
      clockSkewAllowance: 60,
    });
  });

  it.each([
    ['no notification destination', { ...minimal, notifications: {} }, /^notifications\.destinations: no destination: add one .* or set notifications\.slackWebhookSecret$/],
    ['a missing region', { clusters: minimal.clusters, notifications: minimal.notifications }, /^region: Required$/],
    ['no cluster', { ...minimal, clusters: [] }, /^clusters: at least one cluster is required$/],
    ['a schedule below one minute', withCluster({ schedule: { rateMinutes: 0 } }), /^clusters\[1\]\.schedule\.rateMinutes: Too small: expected number to be >=1$/],
    ['a fractional schedule', withCluster({ schedule: { rateMinutes: 2.5 } }), /^clusters\[1\]\.schedule\.rateMinutes: Invalid input: expected int, received number$/],
    ['a misspelt key, with a suggestion', withCluster({ shedule: { rateMinutes: 5 } }), /^clusters\[1\]\.shedule: unknown setting \(did you mean schedule\?\)$/],
    ['an unknown top-level key', { ...minimal, clustr: [] }, /^clustr: unknown setting \(did you mean clusters\?\)$/],
    ['a bad threshold', withCluster({ thresholds: { staleAfter: '61x' } }), /^clusters\[1\]\.thresholds\.staleAfter: invalid threshold "61x"/],
    ['a threshold of 100%', withCluster({ thresholds: { expiringWithin: '100%' } }), /^clusters\[1\]\.thresholds\.expiringWithin: .*below 100%/],
    ['a clock-skew allowance as a share', withCluster({ thresholds: { clockSkewAllowance: '5%' } }), /^clusters\[1\]\.thresholds\.clockSkewAllowance: invalid clock-skew allowance "5%": a duration/],
    ['a clock-skew allowance above an hour', withCluster({ thresholds: { clockSkewAllowance: '90m' } }), /^clusters\[1\]\.thresholds\.clockSkewAllowance: .*at most 60m$/],
    ['a share as the certificate TTL', withCluster({ certificateTtl: '50%' }), /^clusters\[1\]\.certificateTtl: must be a duration/],
    ['an invalid cluster name', withCluster({ name: 'bad name' }), /^clusters\[1\]\.name: must be an EKS cluster name/],
    ['a duplicate cluster name', withCluster({ name: 'first' }), /^clusters\[1\]\.name: duplicate of clusters\[0\]\.name \(first\)$/],
    ['an invalid namespace', withCluster({ namespaces: { exclude: ['Kube_System'] } }), /^clusters\[1\]\.namespaces\.exclude\[0\]: must be a Kubernetes namespace name/],
    ['a namespace both included and excluded', withCluster({ namespaces: { include: ['a', 'b'], exclude: ['b'] } }), /^clusters\[1\]\.namespaces\.exclude: also listed in include: b$/],
    ['a bad region', { ...minimal, region: 'Europe' }, /^region: must be an AWS region/],
    ['a bad account', { ...minimal, account: '1234' }, /^account: must be a 12-digit AWS account id$/],
    ['a subnet that is not a subnet id', { ...minimal, vpc: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['sg-01234567'], securityGroupIds: ['sg-01234567'] } }, /^vpc\.subnetIds\[0\]: must be a subnet id/],
    ['a VPC without security groups', { ...minimal, vpc: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-01234567'], securityGroupIds: [] } }, /^vpc\.securityGroupIds: Too small/],
    ['unreachable restart states', { ...minimal, remediation: { restartStates: ['unreachable'] } }, /^remediation\.restartStates\[0\]: .*"stale"\|"expiring"\|"expired"/],
    ['a breaker share above 1', { ...minimal, remediation: { breakerUnhealthyShare: 1.5 } }, /^remediation\.breakerUnhealthyShare: Too big/],
    ['a partial secret ARN', { ...minimal, notifications: { slackWebhookSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack' } }, /^notifications\.slackWebhookSecret: an ARN must be the complete secret ARN/],
    ['a bad per-namespace secret', { ...minimal, notifications: { slackWebhookSecret: 's', namespaceSlackWebhookSecrets: { payments: '' } } }, /^notifications\.namespaceSlackWebhookSecrets\.payments: must not be empty$/],
    ['an unknown log retention', { ...minimal, functions: { logRetentionDays: 31 } }, /^functions\.logRetentionDays: must be one of 1, 3, 5/],
    ['an unsupported runtime', { ...minimal, functions: { runtime: 'nodejs18.x' } }, /^functions\.runtime: /],
    ['both alarm topic forms', { ...minimal, alarms: { topic: { create: true, existingTopicArn: 'arn:aws:sns:eu-west-1:123456789012:t' } } }, /^alarms\.topic\.create: set either create: true or existingTopicArn \(not both\)$/],
    ['emails for an existing topic', { ...minimal, alarms: { topic: { existingTopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', emailSubscriptions: ['a@b.co'] } } }, /^alarms\.topic\.emailSubscriptions: only for a topic the stack creates/],
    ['a sampler timeout as long as the shortest interval', withCluster({ schedule: { rateMinutes: 4 } }), /^functions\.sampler\.timeoutSeconds: 240 s must be shorter than the sweep interval of clusters\[1\] \(second: schedule\.rateMinutes 4 = 240 s\)/],
    ['a sampler timeout with no room to sample', { ...minimal, functions: { sampler: { timeoutSeconds: 30, sweepDeadlineMarginSeconds: 20 } } }, /^functions\.sampler\.timeoutSeconds: 30 s leaves no room to sample clusters\[0\] \(prod\)/],
    ['access entries for a cluster in another region', withCluster({ region: 'us-east-1' }), /^clusters\[1\]\.accessEntries: the cluster is in us-east-1 but the stack deploys to eu-west-1/],
  ])('rejects %s, naming the exact setting', (_case, input, expected) => {
    expect(errorFor(input)).toMatch(expected);
  });

  it('reports every problem, the first in the error setting and the rest on their own lines', () => {
    let caught: unknown;
    try {
      parseDeploymentConfig({ ...minimal, region: 'nowhere', clusters: [{ name: 'x', concurrency: 0 }] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).setting).toBe('region');
    expect((caught as ConfigError).message.split('\n')).toEqual([
      expect.stringMatching(/^region: /),
      expect.stringMatching(/^clusters\[0\]\.concurrency: Too small/),
    ]);
  });

  it('accepts a cluster in another region when its access entries are left to the user', () => {
    const config = parseDeploymentConfig(withCluster({ region: 'us-east-1', accessEntries: false }));
    expect(config.clusters[1]).toMatchObject({ region: 'us-east-1', accessEntries: false });
  });
});

describe('parseDeploymentConfig: notification destinations', () => {
  const notifications = (value: Record<string, unknown>) => ({ ...minimal, notifications: value });

  it('resolves Slack and PagerDuty destinations with their defaults, the older Slack settings first', () => {
    const config = parseDeploymentConfig(
      notifications({
        slackWebhookSecret: 'slack/webhook',
        namespaceSlackWebhookSecrets: { payments: 'slack/payments' },
        minimumSeverity: 'expiring',
        destinations: [
          { channel: 'pagerduty', secret: 'pd/shop', namespaces: ['shop'], triggerOnExpiring: true },
          { channel: 'pagerduty', secret: 'pd/all', minSeverity: 'expired' },
        ],
      }),
    );
    expect(notificationDestinations(config)).toEqual([
      { channel: 'slack', secret: 'slack/webhook', minSeverity: 'expiring' },
      { channel: 'slack', secret: 'slack/payments', namespaces: ['payments'], minSeverity: 'expiring' },
      { channel: 'pagerduty', secret: 'pd/shop', namespaces: ['shop'], minSeverity: 'expiring', incidentStates: ['expired', 'expiring'] },
      { channel: 'pagerduty', secret: 'pd/all', minSeverity: 'expired', incidentStates: ['expired'] },
    ]);
  });

  it.each([
    ['an unknown channel', { destinations: [{ channel: 'email', secret: 's' }] }, /^notifications\.destinations\[0\]\.channel: /],
    ['a destination without secret', { destinations: [{ channel: 'pagerduty' }] }, /^notifications\.destinations\[0\]\.secret: /],
    ['a bad namespace', { destinations: [{ channel: 'slack', secret: 's', namespaces: ['Shop'] }] }, /^notifications\.destinations\[0\]\.namespaces\[0\]: must be a Kubernetes namespace name/],
    ['the same channel and secret twice', { destinations: [{ channel: 'slack', secret: 's' }, { channel: 'slack', secret: 's', namespaces: ['a'] }] }, /^notifications\.destinations\[1\]\.secret: duplicate of destinations\[0\]/],
    ['triggerOnExpiring on Slack', { destinations: [{ channel: 'slack', secret: 's', triggerOnExpiring: true }] }, /^notifications\.destinations\[0\]\.triggerOnExpiring: only PagerDuty destinations open incidents$/],
    ['per-namespace webhooks without the default one', { namespaceSlackWebhookSecrets: { payments: 's' }, destinations: [{ channel: 'pagerduty', secret: 'pd' }] }, /^notifications\.namespaceSlackWebhookSecrets: needs notifications\.slackWebhookSecret/],
    ['an unknown destination setting', { destinations: [{ channel: 'slack', secret: 's', webhook: 'x' }] }, /^notifications\.destinations\[0\]/],
  ])('rejects %s, naming the setting', (_case, value, expected) => {
    expect(errorFor(notifications(value))).toMatch(expected);
  });
});
