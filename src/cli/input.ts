/** Reads a command's FILE argument (`-` = standard input); an unreadable file is a usage error. */
import { readFile } from 'node:fs/promises';
import { UsageError, describeError } from '../core/errors.js';

export async function readInputFile(file: string, readStdin: () => Promise<string>): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError('FILE', `cannot read ${file}: ${describeError(error)}`, { cause: error });
  }
}
