/** Runs the real CLI entry point in-process and captures what it prints. */
import { main, type CliIo } from '../../src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: readonly string[], stdin = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/**
 * Runs the CLI as a separate process through its launcher (bin/mesh-cert-watch.mjs), on this
 * Node. For commands whose dependencies jest's ESM loader cannot link (the report's Vega).
 */
export async function runCliProcess(args: readonly string[], options: { readonly timeoutMs?: number } = {}): Promise<CliRun> {
  const { execFile } = await import('node:child_process');
  const launcher = new URL('../../bin/mesh-cert-watch.mjs', import.meta.url).pathname;
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, ...args], { timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
