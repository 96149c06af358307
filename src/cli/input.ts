/** Argument and input handling shared by the CLI's commands. */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, describeError } from '../core/model/errors.js';

/** Reads a command's FILE argument (`-` = standard input); an unreadable file is a usage error. */
export async function readInputFile(file: string, readStdin: () => Promise<string>): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError('FILE', `cannot read ${file}: ${describeError(error)}`, { cause: error });
  }
}

/** `parseArgs` in strict mode; a bad flag is a usage error (exit 2) naming what was wrong. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError('arguments', describeError(error), { cause: error });
  }
}

/**
 * A command's FILE argument as a stream of chunks, for inputs of any size (`-` = standard input
 * via `stdinChunks`, or the whole of `readStdin` when the caller has no stream). A file that
 * cannot be opened or read is a usage error naming it.
 */
export async function* inputChunks(
  file: string,
  stdin: { readonly readStdin: () => Promise<string>; readonly stdinChunks?: () => AsyncIterable<Uint8Array> },
): AsyncGenerator<Uint8Array> {
  try {
    if (file !== '-') {
      yield* createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
    } else if (stdin.stdinChunks) {
      yield* stdin.stdinChunks();
    } else {
      yield Buffer.from(await stdin.readStdin(), 'utf8');
    }
  } catch (error) {
    // Errors of the file system (ENOENT, EISDIR, EACCES...) carry a `syscall`; a DumpError does not.
    // (Duck-typed: Node's own errors may come from another realm than this module's `Error`.)
    if (typeof error === 'object' && error !== null && 'syscall' in error) {
      throw new UsageError('FILE', `cannot read ${file}: ${describeError(error)}`, { cause: error });
    }
    throw error;
  }
}
