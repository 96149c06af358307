import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { DeploymentConfigInput } from '../../src/config/deployment.js';
import { buildApp } from '../../lib/app.js';
import { cdkJsonFeatureFlags, exampleConfigInput, minimalConfigInput, REPO_ROOT, synthesize } from './support/synth.js';

/** Every acknowledgement in the tree: construct path, rule id, reason. */
function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^Annotation::/, ''),
          reason,
        })),
      ),
  );
}

/** The logical id of the rotation-history bucket (its hash suffix comes from the construct path). */
function historyBucketId(stack: Stack): string {
  return stack.getLogicalId(stack.node.findChild('History').node.findChild('Bucket').node.defaultChild as CfnElement);
}

function nagViolations(input: DeploymentConfigInput) {
  const { stack } = synthesize(input);
  return { stack, report: new AwsSolutionsChecks().validateScope(stack) };
}

describe('cdk-nag AwsSolutions', () => {
  let example: ReturnType<typeof nagViolations>;
  beforeAll(() => {
    example = nagViolations(exampleConfigInput());
  });

  it('finds nothing unacknowledged in the example deployment (VPC, two clusters, alarm topic)', () => {
    expect(example.report.violations).toEqual([]);
    expect(example.report.success).toBe(true);
  });

  it('finds nothing unacknowledged in the minimal deployment (no VPC, no topic)', () => {
    expect(nagViolations(minimalConfigInput()).report.violations).toEqual([]);
  });

  it('finds nothing unacknowledged in an account-agnostic deployment in a VPC (acknowledgements name <AWS::AccountId>)', () => {
    const vpc = { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] };
    const { stack, report } = nagViolations({ ...minimalConfigInput(), vpc });
    expect(report.violations).toEqual([]);
    expect(acknowledgements(stack).map((ack) => ack.id)).toContain(
      'AwsSolutions-IAM5[Resource::arn:aws:ec2:eu-west-1:<AWS::AccountId>:network-interface/*]',
    );
  });

  it('finds nothing unacknowledged on nodejs24.x, which needs no runtime acknowledgement', () => {
    const { stack, report } = nagViolations({ ...minimalConfigInput(), functions: { runtime: 'nodejs24.x' } });
    expect(report.violations).toEqual([]);
    expect(acknowledgements(stack).map((ack) => ack.id)).not.toContain('AwsSolutions-L1');
  });

  it('acknowledges only these specific findings, each with its reason', () => {
    const acks = acknowledgements(example.stack);
    expect(acks.map(({ path, id }) => `${path} ${id}`).sort()).toEqual(
      [
        'mesh-cert-watch/DeadLetters/Remediator AwsSolutions-SQS3',
        'mesh-cert-watch/DeadLetters/Sampler AwsSolutions-SQS3',
        'mesh-cert-watch/History/Bucket AwsSolutions-S1',
        'mesh-cert-watch/Notifier/Function AwsSolutions-L1',
        'mesh-cert-watch/Remediator/Function AwsSolutions-L1',
        'mesh-cert-watch/Remediator/Role AwsSolutions-IAM5[Resource::*]',
        'mesh-cert-watch/Remediator/Role AwsSolutions-IAM5[Resource::arn:aws:ec2:eu-west-1:123456789012:network-interface/*]',
        'mesh-cert-watch/Sampler/Function AwsSolutions-L1',
        'mesh-cert-watch/Sampler/Role AwsSolutions-IAM5[Resource::*]',
        `mesh-cert-watch/Sampler/Role AwsSolutions-IAM5[Resource::<${historyBucketId(example.stack)}.Arn>/history/*]`,
        'mesh-cert-watch/Sampler/Role AwsSolutions-IAM5[Resource::arn:aws:ec2:eu-west-1:123456789012:network-interface/*]',
      ].sort(),
    );
    for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(60);
  });

  it('has no stale acknowledgement: each one silences a finding that really occurs', () => {
    const pack = new AwsSolutionsChecks();
    const silenced: string[] = [];
    const internals = pack as unknown as { isAcknowledged: (node: IConstruct, ruleId: string) => boolean };
    const isAcknowledged = internals.isAcknowledged.bind(pack);
    // cdk-nag consults acknowledgements only for findings it actually made.
    internals.isAcknowledged = (node, ruleId) => {
      const acknowledged = isAcknowledged(node, ruleId);
      if (acknowledged) silenced.push(`${node.node.path} ${ruleId}`);
      return acknowledged;
    };
    expect(pack.validateScope(example.stack).violations).toEqual([]);
    for (const ack of acknowledgements(example.stack)) {
      expect(silenced.filter((entry) => entry.startsWith(`${ack.path}/`) && entry.endsWith(` ${ack.id}`))).not.toEqual([]);
    }
  });

  it('runs on every synth of the app, failing it on an unacknowledged finding', async () => {
    const app = new App({ context: { ...cdkJsonFeatureFlags(), 'aws:cdk:bundling-stacks': [], config: minimalConfigInput() }, autoSynth: false });
    const stack = await buildApp(app, REPO_ROOT);
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.SQS_MANAGED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
