/** What every CLI command writes to and reads from; tests pass their own (test/support/cli.ts). */
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
  readonly stderrTerminal?: {
    readonly columns: number;
    /** How often the progress line redraws, in ms (default 100; tests shorten it so a fast sweep still draws). */
    readonly refreshMs?: number;
  };
  /** True when stdout is that same kind of terminal (streamed rows then erase the progress line first). */
  readonly stdoutTerminal?: boolean;
  /** Environment read for terminal conventions (`NO_COLOR`, `CI`); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
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
    stdoutTerminal: process.stdout.isTTY === true,
    env: process.env,
  };
}
