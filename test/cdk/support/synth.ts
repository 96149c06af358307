/** Synthesizes the stack for tests: cdk.json's feature flags, no asset bundling, no nag plugin. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDeploymentConfig, type DeploymentConfigInput } from '../../../src/config/deployment.js';
import { MeshCertWatchStack } from '../../../lib/mesh-cert-watch-stack.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The `context` of cdk.json without `config`: the feature flags the CLI synth uses. */
export function cdkJsonFeatureFlags(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const { config: _config, ...flags } = cdkJson.context;
  return flags;
}

export function exampleConfigInput(): DeploymentConfigInput {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'lib/config/example.config.json'), 'utf8')) as DeploymentConfigInput;
}

/** The smallest valid configuration: one cluster, every default. */
export function minimalConfigInput(): DeploymentConfigInput {
  return { region: 'eu-west-1', clusters: [{ name: 'prod' }], notifications: { slackWebhookSecret: 'slack/webhook' } };
}

export interface Synthesized {
  readonly stack: MeshCertWatchStack;
  readonly template: Template;
}

/** Builds the stack for `input` in a fresh app; bundling is skipped (placeholder assets). */
export function synthesize(input: DeploymentConfigInput): Synthesized {
  const app = new App({ context: { ...cdkJsonFeatureFlags(), 'aws:cdk:bundling-stacks': [] }, autoSynth: false });
  const config = parseDeploymentConfig(input);
  const stack = new MeshCertWatchStack(app, config.name, { config });
  return { stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** Resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The only resource of `type` whose logical id starts with `prefix`. */
export function resourceByPrefix(template: Template, type: string, prefix: string): { id: string; Properties: Record<string, unknown> } {
  const matches = Object.entries(resourcesOfType(template, type)).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  const [id, resource] = matches[0]!;
  return { id, Properties: resource.Properties };
}

/**
 * Renders a CloudFormation value to a string, replacing every intrinsic (Ref, GetAtt...) with
 * `placeholder(intrinsic)`: enough to parse the JSON a function receives.
 */
export function renderWithPlaceholders(value: unknown, placeholder: (intrinsic: unknown) => string = () => 'resolved-at-deploy'): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map((part) => renderWithPlaceholders(part, placeholder)).join(join[0]);
  return placeholder(value);
}
