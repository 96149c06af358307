import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { runCli } from '../support/cli.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('mesh-cert-watch entry point', () => {
  it('prints the package version with --version and -V', async () => {
    for (const flag of ['--version', '-V']) expect(await runCli([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('names Node and the code that ran with "version"', async () => {
    const run = await runCli(['version']);
    expect(run.stdout).toBe(`mesh-cert-watch ${version} (Node ${process.version}, sources)\n`);
  });

  it("prints a command's help, loading only that command", async () => {
    const help = await runCli(['help', 'sweep']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mesh-cert-watch sweep/);
    expect((await runCli(['sweep', '--help'])).stdout).toBe(help.stdout);
    expect((await runCli(['help', 'token'])).stdout).toMatch(/^Usage: mesh-cert-watch token/);
  });

  it('lists every command in the top-level help', async () => {
    const run = await runCli(['--help']);
    for (const command of ['sweep', 'inspect', 'rbac', 'token', 'slack-preview', 'demo', 'simulate']) expect(run.stdout).toContain(`mesh-cert-watch ${command}`);
    expect((await runCli([])).stdout).toBe(run.stdout);
  });

  it('refuses an unknown command with exit 2', async () => {
    expect(await runCli(['sweeep'])).toEqual({ code: 2, stdout: '', stderr: 'error: command: unknown command "sweeep"; run "mesh-cert-watch --help"\n' });
  });
});
