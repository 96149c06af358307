/**
 * The CLI's messages and exit codes (issue 12 point 9): kubectl-like one-line errors, never a
 * stack trace; 0 ok, 1 --fail-on, 2 usage, 3 cluster/API unreachable, 4 internal error.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/main.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mcw-cli-'));
let emulator: KubeApiEmulator;
let kubeconfig: string;

beforeAll(async () => {
  emulator = await startKubeApiEmulator();
  new Mesh(emulator, { startTime: new Date(Date.now() - 3600_000) }).addDeployment('shop', 'carts');
  kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, emulator.kubeconfigYaml());
});

afterAll(async () => {
  await emulator.close();
});

function withEnv<T>(env: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  return run().finally(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  });
}

describe('kubeconfig problems', () => {
  it('no kubeconfig at all names where it looked (not localhost:8080)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mcw-home-'));
    const result = await withEnv({ KUBECONFIG: undefined, HOME: home, KUBERNETES_SERVICE_HOST: undefined }, () => runCli(['sweep']));
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toBe(`error: --kubeconfig: no kubeconfig found (looked at ${join(home, '.kube', 'config')}); pass --kubeconfig FILE or set KUBECONFIG\n`);
    const listed = await withEnv({ KUBECONFIG: `${join(home, 'a')}:${join(home, 'b')}`, KUBERNETES_SERVICE_HOST: undefined }, () => runCli(['sweep']));
    expect(listed.stderr).toContain(`(looked at ${join(home, 'a')}, ${join(home, 'b')})`);
  });

  it('a malformed --kubeconfig gets its reason; a missing one says so', async () => {
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'apiVersion: v1\nclusters: [\n  - name: x\n   bad');
    const result = await runCli(['sweep', '--kubeconfig', broken]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(new RegExp(`^error: --kubeconfig: cannot load ${broken}: \\S.+\\n$`));
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await runCli(['sweep', '--kubeconfig', join(dir, 'nope')])).toEqual({ code: EXIT.usage, stdout: '', stderr: `error: --kubeconfig: ${join(dir, 'nope')}: no such file\n` });
  });
});

describe('flags', () => {
  it('--timeout messages name only what is accepted', async () => {
    for (const value of ['60%', '500ms', 'soon']) {
      const result = await runCli(['sweep', '--kubeconfig', kubeconfig, '--timeout', value]);
      expect(result).toEqual({ code: EXIT.usage, stdout: '', stderr: `error: --timeout: invalid duration "${value}": must be a duration in whole seconds such as 10s, 1m or 1m30s\n` });
    }
    expect((await runCli(['sweep', '--kubeconfig', kubeconfig, '--max-time', '5%'])).stderr).toContain('--max-time: invalid duration "5%"');
  });

  it('hung execs: the run ends within --max-time plus its 2 s margin, the cut pods unreachable', async () => {
    emulator.setExecHandler(() => 'hang');
    const started = Date.now();
    const result = await runCli(['sweep', '--kubeconfig', kubeconfig, '--timeout', '30s', '--max-time', '2s', '-o', 'json']);
    emulator.setExecHandler(undefined);
    expect(Date.now() - started).toBeLessThan(2_000 + 2_000);
    expect(result.code).toBe(EXIT.ok);
    const report = JSON.parse(result.stdout) as { partial: boolean; pods: { state: string; error: string }[] };
    expect(report.pods.map((p) => p.state)).toEqual(['unreachable']);
    expect(report.pods[0]!.error).toMatch(/^exec into shop\/carts-[\w-]+ timed out after \d+ ms$/);
  });

  it('-n naming a namespace that does not exist says so on stderr and is not a clean sweep', async () => {
    const result = await runCli(['sweep', '--kubeconfig', kubeconfig, '-n', 'typo', '--fail-on', 'stale']);
    expect(result).toEqual({ code: EXIT.usage, stdout: '', stderr: 'error: --namespace: namespaces "typo" not found\n' });
    expect((await runCli(['sweep', '--kubeconfig', kubeconfig, '-n', 'shop'])).code).toBe(EXIT.ok);
  });

  it('a hung pod list ends after one --timeout: a partial, empty report', async () => {
    emulator.injectFault({ path: /\/pods(\?|$)/, effect: 'hang' });
    const started = Date.now();
    const result = await runCli(['sweep', '--kubeconfig', kubeconfig, '--timeout', '1s', '-o', 'json']);
    emulator.clearFaults();
    expect(Date.now() - started).toBeLessThan(1_000 + 2_000);
    // The hung list timed out with nothing listed: a partial, empty report.
    expect(result.code).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toMatchObject({ partial: true, listError: expect.stringMatching(/^list pods in all namespaces: no answer from the Kubernetes API at .* within 1000 ms$/) });
  });
});

describe('no stack trace anywhere', () => {
  function run(args: string[], pipeToHead: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/mesh-cert-watch.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      // `| head -1` that has already read its line: the pipe is closed before the CLI writes.
      if (pipeToHead) child.stdout.destroy();
      else child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('`simulate | head -1` exits quietly with 0 (EPIPE is the reader leaving)', async () => {
    const result = await run(['simulate', '--hours', '24'], true);
    // (The launcher may say on stderr that it runs the sources: that is all it may say.)
    expect(result.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(result.code).toBe(0);
  }, 60_000);

  it('an unreachable cluster is one line and exit 3', async () => {
    const dead = join(dir, 'dead');
    writeFileSync(dead, emulator.kubeconfigYaml().replace(/https:\/\/127\.0\.0\.1:\d+/, 'https://127.0.0.1:9'));
    const result = await runCli(['sweep', '--kubeconfig', dead, '--timeout', '2s']);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr).toMatch(/^error: cannot sweep the cluster: list pods in all namespaces: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:9: .+\n$/);
  });
});
