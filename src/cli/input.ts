/** Argument and input handling shared by the CLI's commands. */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, describeError } from '../core/errors.js';

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
