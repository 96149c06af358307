/**
 * `sweep --history FILE`: the rotation-history snapshot (the same document the sampler keeps in
 * S3) in a local file. A missing file is a first sweep; a file that is not a snapshot, or the
 * snapshot of another cluster, is refused (exit 2): uncertain history is never used. The new
 * snapshot replaces the file atomically (temporary file in the same directory, fsync, rename), so
 * an interrupted sweep leaves the previous one intact.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError, describeError } from '../core/model/errors.js';
import { HistoryFormatError, parseHistorySnapshot, snapshotLines, type HistorySnapshot } from '../core/judgement/history.js';

const FLAG = '--history';

/** The snapshot in `file`, or null when the file does not exist yet. */
export async function loadHistoryFile(file: string, cluster: string): Promise<HistorySnapshot | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(FLAG, `cannot read ${file}: ${describeError(error)}`, { cause: error });
  }
  let snapshot: HistorySnapshot;
  try {
    snapshot = parseHistorySnapshot(JSON.parse(text));
  } catch (error) {
    const why = error instanceof HistoryFormatError || error instanceof SyntaxError ? error.message : describeError(error);
    throw new UsageError(FLAG, `${file} is not a mesh-cert-watch rotation history (${why}); move it away to start a new history`, { cause: error });
  }
  if (snapshot.cluster !== cluster) {
    throw new UsageError(FLAG, `${file} holds the history of cluster "${snapshot.cluster}", not "${cluster}"; use one file per cluster`);
  }
  return snapshot;
}

/** Writes `snapshot` to `file` atomically. */
export async function saveHistoryFile(file: string, snapshot: HistorySnapshot): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      for (const line of snapshotLines(snapshot)) await handle.write(`${line}\n`, null, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new UsageError(FLAG, `cannot write ${file}: ${describeError(error)}`, { cause: error });
  }
}
