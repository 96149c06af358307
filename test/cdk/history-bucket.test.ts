/**
 * The rotation-history bucket (docs/contract.md §8) and what the stack wires to it: encrypted,
 * TLS only, public access blocked, lifecycle expiry, retained on delete; the sampler alone may
 * list, get and put under history/; the sampler's configuration names it; the dashboard draws
 * the rotation metrics.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Template } from 'aws-cdk-lib/assertions';
import { DIMENSIONS, METRICS_NAMESPACE, ROTATION_SOURCE_METRICS, SAMPLER_METRICS } from '../../src/config/metric-names.js';
import { parseRuntimeConfig, RUNTIME_CONFIG_ENV, samplerRuntimeConfig } from '../../src/config/runtime.js';
import { exampleConfigInput, minimalConfigInput, renderWithPlaceholders, resourceByPrefix, resourcesOfType, synthesize } from './support/synth.js';

let template: Template;
beforeAll(() => {
  ({ template } = synthesize({ ...exampleConfigInput(), history: { retentionDays: 14 } }));
});

function statementsOf(t: Template, roleIdPrefix: string): Array<Record<string, unknown>> {
  const roleId = resourceByPrefix(t, 'AWS::IAM::Role', roleIdPrefix).id;
  return Object.values(resourcesOfType(t, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement);
}

describe('rotation-history bucket', () => {
  it('is SSE-S3 encrypted, owner-enforced, blocks public access and expires snapshots after the configured days', () => {
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    expect(buckets).toHaveLength(1);
    expect(buckets[0]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [{ Id: 'ExpireSnapshots', Prefix: 'history/', ExpirationInDays: 14, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }],
        },
      },
    });
    expect(buckets[0]!.Properties).not.toHaveProperty('VersioningConfiguration');
  });

  it('refuses every request that is not TLS 1.2 or newer', () => {
    const policy = Object.values(resourcesOfType(template, 'AWS::S3::BucketPolicy'))[0]!;
    const statements = (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]),
    );
  });

  it('lets only the sampler list history/ and get/put objects under it; no delete, no other role', () => {
    const bucketId = resourceByPrefix(template, 'AWS::S3::Bucket', 'HistoryBucket').id;
    const sampler = statementsOf(template, 'SamplerRole');
    expect(sampler).toContainEqual({
      Sid: 'ListRotationHistory',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
      Condition: { StringLike: { 's3:prefix': ['history/*'] } },
    });
    expect(sampler).toContainEqual({
      Sid: 'ReadWriteRotationHistory',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/history/*']] },
    });
    for (const role of ['RemediatorRole', 'NotifierRole']) expect(JSON.stringify(statementsOf(template, role))).not.toContain(bucketId);
  });

  it('is named in the sampler configuration, with the per-cluster renewal policy', () => {
    const variables = (resourceByPrefix(template, 'AWS::Lambda::Function', 'SamplerFunction').Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const config = parseRuntimeConfig(samplerRuntimeConfig, { [RUNTIME_CONFIG_ENV]: renderWithPlaceholders(variables[RUNTIME_CONFIG_ENV]) });
    expect(config.historyBucketName).toBe('resolved-at-deploy');
    expect(JSON.stringify(variables[RUNTIME_CONFIG_ENV])).toContain(JSON.stringify({ Ref: resourceByPrefix(template, 'AWS::S3::Bucket', 'HistoryBucket').id }).slice(1, -1));
    expect(config.clusters[0]!.rotation).toEqual({ tbotRenewalIntervalSeconds: 1200, istioAgentGraceRatio: 0.5, istioAgentGraceJitter: 0.01, slackSeconds: 180 });
  });

  it('takes a configured renewal interval and slack per cluster', () => {
    const input = minimalConfigInput();
    const { template: custom } = synthesize({ ...input, clusters: [{ ...input.clusters[0]!, rotation: { renewalInterval: '30m', slack: '90s' } }] });
    const variables = (resourceByPrefix(custom, 'AWS::Lambda::Function', 'SamplerFunction').Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const config = parseRuntimeConfig(samplerRuntimeConfig, { [RUNTIME_CONFIG_ENV]: renderWithPlaceholders(variables[RUNTIME_CONFIG_ENV]) });
    expect(config.clusters[0]!.rotation).toMatchObject({ tbotRenewalIntervalSeconds: 1800, slackSeconds: 90 });
    const lifecycle = (Object.values(custom.findResources('AWS::S3::Bucket'))[0]!.Properties as { LifecycleConfiguration: { Rules: { ExpirationInDays: number }[] } }).LifecycleConfiguration;
    expect(lifecycle.Rules[0]!.ExpirationInDays).toBe(7);
  });

  it('draws rotations observed, pods overdue, missed renewals proven and the rotation interval per source', () => {
    const body = JSON.parse(renderWithPlaceholders(resourceByPrefix(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard').Properties.DashboardBody)) as {
      widgets: Array<{ properties: { title?: string; metrics?: unknown[][]; annotations?: { horizontal: Array<{ value: number }> } } }>;
    };
    const widget = (title: string) => body.widgets.find((w) => w.properties.title === title)!.properties;
    const rotations = JSON.stringify(widget('Rotations observed per sweep: prod-eu-1').metrics);
    for (const name of [SAMPLER_METRICS.rotationsObserved, SAMPLER_METRICS.podsRotationOverdue, SAMPLER_METRICS.missedRenewalsProven]) {
      expect(rotations).toContain(JSON.stringify([METRICS_NAMESPACE, name, DIMENSIONS.cluster, 'prod-eu-1']).slice(1, -1));
    }
    const intervals = widget('Observed rotation interval by source: prod-eu-1');
    const text = JSON.stringify(intervals.metrics);
    for (const source of ['tbot', 'istio-agent']) {
      expect(text).toContain(JSON.stringify([METRICS_NAMESPACE, ROTATION_SOURCE_METRICS.intervalP50Seconds, DIMENSIONS.cluster, 'prod-eu-1', DIMENSIONS.source, source]).slice(1, -1));
    }
    expect(intervals.annotations?.horizontal.map((a) => a.value)).toEqual([1200, 3600]);
  });
});
