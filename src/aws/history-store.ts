/**
 * The sampler's rotation history in S3 (docs/contract.md §8): one gzip'd JSON snapshot object per
 * cluster per sweep, under `history/<cluster>/<inverted time>-<sweepId>.json.gz`.
 *
 * Why inverted-time keys and a one-key listing rather than a `latest` object: every sweep's
 * snapshot stays an object of its own (kept until the bucket's lifecycle rule expires it, for
 * audits and replays), and the newest one is the first key in S3's lexicographic listing order,
 * so one `ListObjectsV2` with `MaxKeys: 1` finds it. Per sweep: one LIST, one GET, one PUT,
 * whatever the number of pods (cost grows with sweeps, not with pods × sweeps); no second PUT
 * to keep a pointer in step, and no window in which the pointer and the snapshot disagree.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createGunzip, createGzip } from 'node:zlib';
import { MeshCertWatchError, describeError } from '../core/model/errors.js';
import type { RotationHistoryStore } from '../ports/rotation-history.js';
import { HistoryFormatError, parseSnapshotLines, snapshotLines, type HistorySnapshot } from '../core/judgement/history.js';

export const HISTORY_PREFIX = 'history/';
/** 10^13 − 1 ms is the year 2286: keys stay 13 digits wide, so text order is time order. */
const MAX_TIME_MS = 9_999_999_999_999;

/** `history/<cluster>/` */
export function historyPrefix(cluster: string): string {
  return `${HISTORY_PREFIX}${encodeURIComponent(cluster)}/`;
}

/** `history/<cluster>/<13-digit inverted epoch ms>-<sweepId>.json.gz`: newest first in a listing. */
export function snapshotKey(snapshot: Pick<HistorySnapshot, 'cluster' | 'sweepId' | 'observedAt'>): string {
  const ms = Date.parse(snapshot.observedAt);
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) throw new MeshCertWatchError('AWS', `rotation history: observedAt ${snapshot.observedAt} cannot be keyed`);
  const inverted = String(MAX_TIME_MS - ms).padStart(13, '0');
  return `${historyPrefix(snapshot.cluster)}${inverted}-${encodeURIComponent(snapshot.sweepId)}.json.gz`;
}

export class S3HistoryStore implements RotationHistoryStore {
  constructor(
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly bucket: string,
  ) {}

  async load(cluster: string): Promise<HistorySnapshot | null> {
    let key: string | undefined;
    try {
      const listing = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: historyPrefix(cluster), MaxKeys: 1 }));
      key = listing.Contents?.[0]?.Key;
    } catch (error) {
      throw new MeshCertWatchError('AWS', `rotation history: cannot list s3://${this.bucket}/${historyPrefix(cluster)}: ${describeError(error)}`, { cause: error });
    }
    if (key === undefined) return null;
    let body: Readable;
    let gzipped: boolean;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!object.Body) throw new Error('empty body');
      body = object.Body instanceof Readable ? object.Body : Readable.from([await object.Body.transformToByteArray()]);
      gzipped = object.ContentEncoding === 'gzip';
    } catch (error) {
      throw new MeshCertWatchError('AWS', `rotation history: cannot read s3://${this.bucket}/${key}: ${describeError(error)}`, { cause: error });
    }
    let snapshot: HistorySnapshot;
    try {
      // Read a line at a time through gunzip: the snapshot's text is never held whole.
      const text = gzipped ? body.pipe(createGunzip()) : body;
      body.once('error', (error) => text.destroy(error));
      snapshot = await parseSnapshotLines(createInterface({ input: text, crlfDelay: Infinity }));
    } catch (error) {
      const why = error instanceof HistoryFormatError ? error.message : describeError(error);
      throw new MeshCertWatchError('AWS', `rotation history: s3://${this.bucket}/${key} is not a snapshot (${why})`, { cause: error });
    }
    if (snapshot.cluster !== cluster) {
      throw new MeshCertWatchError('AWS', `rotation history: s3://${this.bucket}/${key} holds cluster "${snapshot.cluster}", not "${cluster}"`);
    }
    return snapshot;
  }

  async save(snapshot: HistorySnapshot): Promise<void> {
    const key = snapshotKey(snapshot);
    try {
      // Gzip'd a line at a time: only the compressed bytes (≈ 110 per pod) are held whole.
      const body = await buffer(Readable.from(linesWithNewlines(snapshot)).pipe(createGzip()));
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json', ContentEncoding: 'gzip' }),
      );
    } catch (error) {
      throw new MeshCertWatchError('AWS', `rotation history: cannot write s3://${this.bucket}/${key}: ${describeError(error)}`, { cause: error });
    }
  }
}

function* linesWithNewlines(snapshot: HistorySnapshot): Generator<string> {
  for (const line of snapshotLines(snapshot)) yield `${line}\n`;
}
