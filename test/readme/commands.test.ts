/**
 * Every command the README shows in a fenced `sh` block is exercised: the cheap ones run here
 * (in-process CLI, in a scratch directory), the others are matched to the test or the .ci/run
 * step that runs them (which must still contain the command's distinctive part), and the few that
 * need an AWS account or a real cluster are listed by exact text. A README command nobody
 * exercises, or whose test lost it, fails this test.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CI = readFileSync(join(ROOT, '.ci/run'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

interface ShCommand {
  readonly line: string;
  /** Here-document bodies written by the command (`cat > FILE <<'EOF'`), by file name. */
  readonly files: Readonly<Record<string, string>>;
}

/** The commands of every ```sh block, comments stripped, here-documents attached. */
function readmeCommands(): ShCommand[] {
  const commands: ShCommand[] = [];
  for (const block of README.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1]!.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/\s+#.*$/, '').trim();
      if (line === '' || line.startsWith('#')) continue;
      const heredoc = /^cat > (\S+) <<'(\w+)'$/.exec(line);
      if (heredoc) {
        const end = lines.indexOf(heredoc[2]!, i + 1);
        commands.push({ line, files: { [heredoc[1]!]: lines.slice(i + 1, end).join('\n') } });
        i = end;
        continue;
      }
      commands.push({ line, files: {} });
    }
  }
  return commands;
}

type Coverage =
  | { readonly run: readonly string[] } // mesh-cert-watch arguments, run here
  | { readonly test: string; readonly contains: string } // a test file that runs it
  | { readonly ci: string } // a .ci/run line
  | { readonly script: string } // an npm script run by .ci/run
  | { readonly external: string } // needs AWS or a cluster: why it is not run
  | { readonly writes: string }; // a here-document: written before the commands run

/** How each README command is exercised; matched by the first regular expression that fits. */
const COVERAGE: ReadonlyArray<readonly [RegExp, (line: string) => Coverage]> = [
  [/^cat > (\S+) <<'\w+'$/, (line) => ({ writes: line.split(' ')[2]! })],
  [/^npm ci$/, () => ({ ci: 'npm ci' })],
  [/^npm test$/, () => ({ ci: 'npm test' })],
  // The default 24 sweeps through the CLI: the browser tier (which also writes the report).
  [/^npm run demo$/, () => ({ test: 'test/browser/report.browser.ts', contains: "'demo', '--quiet', '--report'" })],
  [/^npm run demo -- --report \S+$/, () => ({ test: 'test/browser/report.browser.ts', contains: "'demo', '--quiet', '--report'" })],
  [/^npm run screenshots$/, () => ({ ci: 'npm run screenshots' })],
  [/^npm run simulate -- (.*)$/, (line) => ({ run: ['simulate', ...line.replace(/^npm run simulate -- /, '').split(/\s+/)] })],
  [/^npx mesh-cert-watch simulate /, (line) => ({ run: line.split(/\s+/).slice(2) })],
  [/^npx mesh-cert-watch demo /, () => ({ test: 'test/demo/demo.test.ts', contains: "cli(['demo', '--sweeps'" })],
  [/^npx mesh-cert-watch slack-preview .*events\.json$/, (line) => ({ run: line.split(/\s+/).slice(2) })],
  [/^npx mesh-cert-watch notify-preview .*events\.json$/, (line) => ({ run: line.split(/\s+/).slice(2) })],
  [/^npx mesh-cert-watch rbac \| kubectl apply -f -$/, () => ({ run: ['rbac'] })],
  [/^kubectl delete -f <\(npx mesh-cert-watch rbac\)$/, () => ({ run: ['rbac'] })],
  [/^npx mesh-cert-watch watch .*--until-rotation/, () => ({ test: 'test/integration/watch.test.ts', contains: "'--until-rotation'" })],
  [/^npx mesh-cert-watch inspect /, () => ({ test: 'test/cli/main.test.ts', contains: "'inspect'" })],
  [/^npx mesh-cert-watch token /, () => ({ test: 'test/sampler/token-command.test.ts', contains: "'--cluster'" })],
  [/^npx mesh-cert-watch sweep .*--history .*--renewal-interval/, () => ({ test: 'test/integration/history.test.ts', contains: "'--renewal-interval'" })],
  [/^npx mesh-cert-watch sweep .*--history/, () => ({ test: 'test/integration/history.test.ts', contains: "'--history'" })],
  [/^npx mesh-cert-watch sweep --remediate --dry-run$/, () => ({ test: 'test/remediator/cli.test.ts', contains: "'--remediate', '--dry-run'" })],
  [/^npx mesh-cert-watch sweep .*--fail-on/, () => ({ test: 'test/integration/sweep.test.ts', contains: "'--fail-on'" })],
  [/^npx mesh-cert-watch sweep -n /, () => ({ test: 'test/integration/sweep.test.ts', contains: "'-n', 'data'" })],
  [/^npx mesh-cert-watch sweep( --context \S+)?$/, () => ({ test: 'test/integration/sweep.test.ts', contains: "'--context'" })],
  [/^npx cdk (deploy|diff|destroy) -c config=/, () => ({ external: 'changes an AWS account; the same configuration is synthesized by test/cdk/cdk-synth.test.ts and test/cdk/minimal-config.test.ts' })],
  [/^npx cdk bootstrap /, () => ({ external: 'changes an AWS account' })],
  [/^git pull && npm ci$/, () => ({ external: 'updates the checkout' })],
  [/^aws (eks|secretsmanager) /, () => ({ external: 'AWS CLI against your account' })],
];

function coverageOf(line: string): Coverage {
  const entry = COVERAGE.find(([pattern]) => pattern.test(line));
  if (!entry) throw new Error(`README command not exercised anywhere: ${line} (add it to COVERAGE with the test or CI step that runs it)`);
  return entry[1](line);
}

describe('README commands', () => {
  const commands = readmeCommands();

  it('are all exercised somewhere', () => {
    expect(commands.length).toBeGreaterThan(15);
    const unmatched = commands.filter((command) => !COVERAGE.some(([pattern]) => pattern.test(command.line))).map((c) => c.line);
    expect(unmatched).toEqual([]);
  });

  it('point at tests and CI steps that still run them', () => {
    for (const command of commands) {
      const coverage = coverageOf(command.line);
      if ('test' in coverage) expect([command.line, readFileSync(join(ROOT, coverage.test), 'utf8').includes(coverage.contains)]).toEqual([command.line, true]);
      if ('ci' in coverage) expect([command.line, CI.includes(coverage.ci)]).toEqual([command.line, true]);
      if ('script' in coverage) expect(PACKAGE.scripts[coverage.script]).toBeDefined();
    }
    // npm scripts the README names exist.
    for (const script of README.matchAll(/npm run ([a-z:]+)/g)) expect([script[1], PACKAGE.scripts[script[1]!] !== undefined]).toEqual([script[1], true]);
  });

  it('run, where they are cheap: simulate, rbac, slack-preview with the README\'s own events file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mcw-readme-'));
    const cwd = process.cwd();
    try {
      process.chdir(directory);
      for (const command of commands) {
        for (const [file, content] of Object.entries(command.files)) writeFileSync(join(directory, file), `${content}\n`);
      }
      for (const command of commands) {
        const coverage = coverageOf(command.line);
        if (!('run' in coverage)) continue;
        const run = await runCli(coverage.run);
        expect([command.line, run.code, run.stderr]).toEqual([command.line, 0, expect.any(String)]);
        expect(run.stdout.length).toBeGreaterThan(0);
      }
    } finally {
      process.chdir(cwd);
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
