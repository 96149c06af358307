/** What every CLI command writes to and reads from; tests pass their own (test/support/cli.ts). */
import type { Writable } from 'node:stream';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
  /** Standard input as it arrives (for inputs of any size: `inspect -`); `readStdin` is used when absent. */
  readonly stdinChunks?: () => AsyncIterable<Uint8Array>;
  /**
   * The terminal behind stderr, for live progress (`sweep`); absent = not a terminal. Tests pass
   * a fake one to see the progress line.
   */
  readonly stderrTerminal?: { readonly columns: number };
  /** Environment read for terminal conventions (`NO_COLOR`, `CI`); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves once stdout can take more (backpressure for streamed reports); absent = never waits.
   * Without it a 50,000-pod report piped to a slow reader would pile up in memory.
   */
  readonly drain?: () => Promise<void>;
  /** True while stdout is asking the writer to wait (`drain` then resolves when it may go on). */
  readonly stdoutBusy?: () => boolean;
}

export const EXIT = { ok: 0, failOn: 1, usage: 2, unreachable: 3, internal: 4 } as const;

/**
 * `mesh-cert-watch … | head -1`: once the reader is gone, writes fail with EPIPE. That is the
 * reader's choice, not an error: stop quietly with the exit code so far (0), like kubectl does.
 */
let pipesGuarded = false;
function exitQuietlyOnClosedPipe(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
      throw error;
    });
  }
}

function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writableNeedDrain) resolve();
    else stream.once('drain', () => resolve());
  });
}

/** The process's own streams. */
export function processIo(): CliIo {
  exitQuietlyOnClosedPipe();
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    stdinChunks: () => process.stdin,
    ...(process.stderr.isTTY ? { stderrTerminal: { get columns() { return process.stderr.columns || 80; } } } : {}),
    env: process.env,
    drain: () => waitForDrain(process.stdout),
    stdoutBusy: () => process.stdout.writableNeedDrain,
  };
}
