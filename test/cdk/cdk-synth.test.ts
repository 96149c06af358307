/**
 * The real thing, slow tier (~30 s): `cdk synth` through the CLI and cdk.json, offline and
 * without AWS credentials, bundling the functions with the local esbuild; cfn-lint on the
 * result; and a bad configuration failing the synth with the setting named.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BUNDLE_SIZE_GOALS } from '../../lib/bundling/esbuild-options.js';
import { minimalConfigInput, REPO_ROOT, synthesize } from './support/synth.js';

const BIN = join(REPO_ROOT, 'node_modules', '.bin');
/**
 * W3005 (DependsOn already implied by a GetAtt): CDK makes every function depend on its role
 * *and* the role's policy; the policy dependency matters (a VPC function cannot be created
 * before its ENI permissions exist), the role one is redundant but harmless.
 */
const CFN_LINT_IGNORED = ['W3005'];

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mcw-synth-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the CDK CLI as CI would, with no AWS credentials, config files or network metadata. */
function cdk(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(join(BIN, 'cdk'), args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    env: {
      PATH: [BIN, process.env.PATH ?? '/usr/bin:/bin'].join(delimiter),
      HOME: work,
      CI: 'true',
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(work, 'absent-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'absent-aws-credentials'),
    },
  });
}

function cfnLint(templateFile: string): SpawnSyncReturns<string> {
  const result = spawnSync('cfn-lint', ['--ignore-checks', ...CFN_LINT_IGNORED, '--', templateFile], { encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw new Error(`cfn-lint could not run (${result.error.message}); install it with: pip install cfn-lint`);
  return result;
}

describe('npx cdk synth on the example configuration', () => {
  const out = () => join(work, 'cdk.out');
  let synth: SpawnSyncReturns<string>;
  beforeAll(() => {
    synth = cdk(['synth', '--quiet', '--output', out()]);
  }, 180_000);

  it('succeeds offline without credentials, cdk-nag included', () => {
    expect({ status: synth.status, stderr: synth.status === 0 ? '' : synth.stderr }).toEqual({ status: 0, stderr: '' });
    expect(existsSync(join(out(), 'mesh-cert-watch.template.json'))).toBe(true);
  });

  it('bundles each function with the local esbuild into an ES module exporting handler', () => {
    const assets = readdirSync(out()).filter((entry) => entry.startsWith('asset.'));
    expect(assets).toHaveLength(3);
    for (const asset of assets) {
      const bundle = join(out(), asset, 'index.mjs');
      const probe = spawnSync(
        join(BIN, 'node'),
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`],
        { encoding: 'utf8' },
      );
      expect(probe.stdout.trim()).toBe('function');
    }
    expect(synth.stderr).not.toMatch(/docker/i);
  });

  it('keeps each bundle within its size goal and synthesizes without size warnings', () => {
    const template = JSON.parse(readFileSync(join(out(), 'mesh-cert-watch.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { FunctionName?: string }; Metadata?: Record<string, string> }>;
    };
    const sizes: Record<string, number> = {};
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function' || !resource.Metadata?.['aws:asset:path']) continue;
      const name = String(resource.Properties.FunctionName).replace(/^mesh-cert-watch-/, '');
      sizes[name] = statSync(join(out(), resource.Metadata['aws:asset:path'], 'index.mjs')).size;
    }
    expect(Object.keys(sizes).sort()).toEqual(Object.keys(BUNDLE_SIZE_GOALS).sort());
    for (const [name, goal] of Object.entries(BUNDLE_SIZE_GOALS)) expect({ name, size: sizes[name]! <= goal ? 'within goal' : sizes[name] }).toEqual({ name, size: 'within goal' });
    expect(synth.stderr).not.toMatch(/⚠|warning/i);
  });

  it('passes cfn-lint', () => {
    const lint = cfnLint(join(out(), 'mesh-cert-watch.template.json'));
    expect({ status: lint.status, findings: lint.stdout }).toEqual({ status: 0, findings: '' });
  });
});

describe('cfn-lint on the minimal deployment (no VPC, no topic)', () => {
  it('passes', () => {
    const file = join(work, 'minimal.template.json');
    writeFileSync(file, JSON.stringify(synthesize(minimalConfigInput()).template.toJSON()));
    const lint = cfnLint(file);
    expect({ status: lint.status, findings: lint.stdout }).toEqual({ status: 0, findings: '' });
  });
});

describe('npx cdk synth on an invalid configuration', () => {
  it('fails naming the exact setting', () => {
    const file = join(work, 'invalid.json');
    writeFileSync(file, JSON.stringify({ ...minimalConfigInput(), clusters: [{ name: 'a' }, { name: 'b', schedule: { rateMinutes: 0 } }] }));
    const result = cdk(['synth', '--quiet', '--output', join(work, 'cdk.out.invalid'), '-c', `config=${file}`]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('clusters[1].schedule.rateMinutes: Too small: expected number to be >=1');
  }, 120_000);
});
