/**
 * The README's first deployment: lib/config/minimal.config.json (one cluster, one Slack secret,
 * dry-run on) synthesizes, with the remediator in dry-run, one 5-minute schedule, the dashboard
 * and the alarms; and the README's list of resource types the deploying role must manage covers
 * every type the minimal and the example configurations create.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import type { DeploymentConfigInput } from '../../src/config/deployment.js';
import { RUNTIME_CONFIG_ENV } from '../../src/config/runtime.js';
import { exampleConfigInput, REPO_ROOT, renderWithPlaceholders, resourceByPrefix, resourcesOfType, synthesize } from './support/synth.js';

const minimalInput = JSON.parse(readFileSync(`${REPO_ROOT}/lib/config/minimal.config.json`, 'utf8')) as DeploymentConfigInput;
const README = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');

let minimal: Template;
let example: Template;
beforeAll(() => {
  ({ template: minimal } = synthesize(minimalInput));
  ({ template: example } = synthesize(exampleConfigInput()));
});

describe('lib/config/minimal.config.json', () => {
  it('is one cluster, one webhook secret, dry-run on, and nothing else', () => {
    expect(minimalInput).toEqual({
      region: expect.any(String),
      clusters: [{ name: expect.any(String) }],
      notifications: { destinations: [{ channel: 'slack', secret: expect.any(String) }] },
      remediation: { dryRun: true },
    });
    // The README shows the file verbatim.
    expect(README).toContain(readFileSync(`${REPO_ROOT}/lib/config/minimal.config.json`, 'utf8').trim());
  });

  it('synthesizes a stack whose remediator is in dry-run, swept every 5 minutes, with the dashboard and alarms', () => {
    const remediator = resourceByPrefix(minimal, 'AWS::Lambda::Function', 'RemediatorFunction').Properties;
    const config = JSON.parse(renderWithPlaceholders((remediator.Environment as { Variables: Record<string, unknown> }).Variables[RUNTIME_CONFIG_ENV])) as { policy: { dryRun: boolean } };
    expect(config.policy.dryRun).toBe(true);
    const schedules = Object.values(resourcesOfType(minimal, 'AWS::Scheduler::Schedule'));
    expect(schedules.map((s) => s.Properties.ScheduleExpression)).toEqual(['rate(5 minutes)']);
    expect(Object.keys(resourcesOfType(minimal, 'AWS::CloudWatch::Dashboard'))).toHaveLength(1);
    // 4 per cluster, 3 dead-letter queues, errors and throttles of the 3 functions.
    expect(Object.keys(resourcesOfType(minimal, 'AWS::CloudWatch::Alarm'))).toHaveLength(4 + 3 + 3 * 2);
  });
});

describe('README: what the deploying principal needs', () => {
  it('lists every resource type the stacks create', () => {
    const section = /<!-- look:deploy begin -->([\s\S]*?)<!-- look:deploy end -->/.exec(README)![1]!;
    const types = new Set<string>();
    for (const template of [minimal, example]) {
      for (const resource of Object.values(template.toJSON().Resources as Record<string, { Type: string }>)) types.add(resource.Type);
    }
    const missing = [...types].filter((type) => !type.startsWith('Custom::') && type !== 'AWS::CDK::Metadata' && !section.includes(`\`${type}\``));
    expect(missing).toEqual([]);
  });
});
