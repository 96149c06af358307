/**
 * The real launcher (bin/mesh-cert-watch.mjs) as users and kubectl run it: a separate process,
 * started by the system's Node from another directory, with node_modules/.bin off the PATH.
 * On a system Node older than 22 (this machine's is 20) it must re-execute itself on the
 * project's Node 22 and run the compiled CLI.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const launcher = join(root, 'bin', 'mesh-cert-watch.mjs');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
/** PATH as a user's shell has it: without any node_modules/.bin that npm put first. */
const userPath = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.includes('node_modules')).join(delimiter);

function systemNode(): string {
  for (const dir of userPath.split(delimiter)) {
    const candidate = join(dir, 'node');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`no node on the PATH without node_modules (${userPath}); the launcher test needs the system Node`);
}

const node = systemNode();
const nodeVersion = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
const cwd = mkdtempSync(join(tmpdir(), 'mcw-launcher-'));

function launch(args: string[]) {
  return spawnSync(node, [launcher, ...args], { cwd, encoding: 'utf8', env: { ...process.env, PATH: userPath }, timeout: 60_000 });
}

beforeAll(() => {
  // The launcher runs dist/ only when it is current; build it so this test sees the compiled CLI.
  const build = spawnSync(process.execPath, [join(root, 'bin', 'build-cli.mjs'), '--quiet'], { encoding: 'utf8' });
  expect(build.stderr).toBe('');
  expect(build.status).toBe(0);
}, 60_000);

describe('bin/mesh-cert-watch.mjs on the system Node', () => {
  it(`runs the compiled CLI on Node >= 22 (system Node here: ${nodeVersion})`, () => {
    const run = launch(['version']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const match = /^mesh-cert-watch (\S+) \(Node (v\d+)\.\S+, compiled\)\n$/.exec(run.stdout);
    expect(match).not.toBeNull();
    expect(match![1]).toBe(version);
    const ranOn = match![2]!;
    if (Number(nodeVersion.slice(1).split('.')[0]) < 22) {
      // Re-executed on the project's Node (devDependency `node`), not refused.
      expect(ranOn).toBe(`v${process.versions.node.split('.')[0]}`);
      expect(ranOn).not.toBe(nodeVersion.split('.')[0]);
    } else {
      expect(ranOn).toBe(nodeVersion.split('.')[0]);
    }
  });

  it('prints the package version with --version', () => {
    const run = launch(['--version']);
    expect(run).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it("passes the CLI's exit code and stderr through the re-exec", () => {
    const run = launch(['sweep', '--output', 'yaml']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--output/);
    expect(run.stdout).toBe('');
  });

  it('runs the kubeconfig exec plugin (token) from any directory', () => {
    const run = spawnSync(node, [launcher, 'token', '--cluster', 'prod', '--region', 'eu-west-1'], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: userPath, HOME: cwd, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const credential = JSON.parse(run.stdout) as { kind: string; status: { token: string } };
    expect(credential.kind).toBe('ExecCredential');
    expect(credential.status.token).toMatch(/^k8s-aws-v1\./);
  });
});
