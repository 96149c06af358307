/**
 * Rotation over time (docs/contract.md §8): the snapshot of what every sampled pod held at one
 * sweep, and the comparison of a pod with its previous observation.
 *
 * Pure: no SDK, no environment, no clock. The sampler keeps one snapshot per cluster per sweep
 * in S3 (src/aws/history-store.ts), the CLI keeps the same document in a file
 * (`sweep --history FILE`), `watch` keeps it in memory.
 *
 * The expected renewal point is source-aware, from the facts in the research notes:
 * - tbot re-sends `default` every `renewal_interval` (default 20 min), reset after each send, and
 *   a healthy tbot issues a new SVID for it: the leaf should be replaced by notBefore + interval;
 * - the Istio agent rotates at `Expire − (SECRET_GRACE_PERIOD_RATIO ± jitter) × lifetime`
 *   (ratio 0.5, jitter up to 0.01): the leaf should be replaced by notBefore + (1 − ratio + jitter)
 *   × lifetime, i.e. 51 % of its life;
 * - an unknown server: no expected point (only the `--stale-after` threshold judges it).
 * A pod is overdue once the leaf is still the same past that point plus a slack (issuance latency,
 * backdated notBefore, clock skew); the sweep after that instant flags it, so detection comes
 * within one sweep interval of expected point + slack.
 */
import {
  FINDINGS,
  STATES,
  type CertificateReport,
  type Finding,
  type State,
  type PodReport,
  type PreviousObservationReport,
  type RotationReport,
  type RotationsReport,
  type SecretReport,
  type Source,
  type SourceRotationsReport,
} from '../model/types.js';

export const HISTORY_FORMAT = 'mesh-cert-watch/rotation-history';
export const HISTORY_FORMAT_VERSION = 1;

/**
 * What one sweep saw of one pod's `default` leaf: the unit of rotation history. The leaf part is
 * what the next sweep's report shows as `previous`.
 */
export interface PodObservation extends PreviousObservationReport {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly source: Source;
  /**
   * The leaf's SPIFFE ID, the pod's state and findings at that sweep: what due-based sampling
   * (due.ts) needs to judge the pod without sampling it. Absent in snapshots written before them:
   * such a pod is due (sampled) at the next sweep.
   */
  readonly spiffeId?: string | null;
  readonly state?: State;
  readonly findings?: readonly Finding[];
}

/** One document per cluster per sweep (S3 object, `--history` file). */
export interface HistorySnapshot {
  readonly format: typeof HISTORY_FORMAT;
  readonly version: typeof HISTORY_FORMAT_VERSION;
  readonly cluster: string;
  readonly sweepId: string;
  readonly observedAt: string;
  /** Pods that held a `default` leaf, by uid order; pods carried over from earlier sweeps included. */
  readonly pods: readonly PodObservation[];
}

/** `previous` in the per-pod report: the pod's observation at an earlier sweep. */
export type PreviousObservation = PreviousObservationReport;

/** `rotation` in the per-pod report (present when the sweep ran with history). */
export type RotationAssessment = RotationReport;

/** How each source renews, and how late a renewal may be before it counts as missed. */
export interface RenewalPolicy {
  /** tbot `renewal_interval`. @default 1200 (20 min, tbot's DefaultRenewInterval) */
  readonly tbotRenewalIntervalSeconds: number;
  /** Istio agent `SECRET_GRACE_PERIOD_RATIO`. @default 0.5 */
  readonly istioAgentGraceRatio: number;
  /** Istio agent `SECRET_GRACE_PERIOD_RATIO_JITTER`. @default 0.01 */
  readonly istioAgentGraceJitter: number;
  /** Allowance past the expected point before a pod is overdue. @default 180 (3 min) */
  readonly slackSeconds: number;
}

export const DEFAULT_RENEWAL_POLICY: RenewalPolicy = {
  tbotRenewalIntervalSeconds: 20 * 60,
  istioAgentGraceRatio: 0.5,
  istioAgentGraceJitter: 0.01,
  slackSeconds: 3 * 60,
};

/** What classify needs to judge a pod over time. */
export interface HistoryContext {
  readonly previous: PreviousObservation | null;
  readonly renewal: RenewalPolicy;
}

/** The latest instant (ms) at which the source should have replaced a leaf, or null. */
export function expectedRenewalMs(source: Source, notBeforeMs: number, notAfterMs: number, policy: RenewalPolicy): number | null {
  const lifetimeMs = Math.max(0, notAfterMs - notBeforeMs);
  let at: number;
  if (source === 'tbot') at = notBeforeMs + policy.tbotRenewalIntervalSeconds * 1000;
  else if (source === 'istio-agent') at = notBeforeMs + (1 - policy.istioAgentGraceRatio + policy.istioAgentGraceJitter) * lifetimeMs;
  else return null;
  // A renewal scheduled past expiry (misconfiguration) is due at expiry at the latest.
  return Math.min(at, notAfterMs);
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))(?:\/\d+)?$/;

/**
 * When `default` was last pushed: `last_updated`, else the instant in `version_info` (tbot writes
 * the push instant, the Istio agent `<RFC3339>/<n>`), else null.
 */
export function pushInstantMs(secret: { readonly versionInfo: string | null; readonly lastUpdated: string | null } | undefined): number | null {
  if (!secret) return null;
  if (secret.lastUpdated !== null) {
    const ms = Date.parse(secret.lastUpdated);
    if (Number.isFinite(ms)) return ms;
  }
  const match = secret.versionInfo === null ? null : RFC3339.exec(secret.versionInfo);
  if (!match) return null;
  const ms = Date.parse(match[1]!);
  return Number.isFinite(ms) ? ms : null;
}

/** True when the same leaf was observed before (serial and fingerprint unchanged). */
export function sameLeaf(previous: Pick<PreviousObservation, 'serialNumber' | 'fingerprintSha256'>, leaf: Pick<CertificateReport, 'serialNumber' | 'fingerprintSha256'>): boolean {
  return previous.serialNumber === leaf.serialNumber && previous.fingerprintSha256 === leaf.fingerprintSha256;
}

/** True when `default` was pushed between the two observations (version_info or last_updated changed). */
export function pushAdvanced(previous: PreviousObservation, current: { readonly versionInfo: string | null; readonly lastUpdated: string | null } | undefined): boolean {
  if (!current) return false;
  if (current.versionInfo !== null && previous.versionInfo !== null && current.versionInfo !== previous.versionInfo) return true;
  if (current.lastUpdated !== null && previous.lastUpdated !== null) return Date.parse(current.lastUpdated) > Date.parse(previous.lastUpdated);
  return false;
}

export interface RotationJudgement {
  readonly rotation: RotationAssessment;
  /** True when the pod is overdue or the missed renewal is proven: the state is at least `stale`. */
  readonly overdue: boolean;
  /** Which stopped-rotation finding explains it, when overdue. */
  readonly finding: 'sds-push-without-rotation' | 'sds-pushes-stopped' | null;
  /** Present when there is a previous observation. */
  readonly rotatedSinceLastSweep?: boolean;
}

/**
 * Judges one leaf against its expected renewal point and its previous observation.
 * `defaultSecret` is the `default` secret as reported (its version and push time).
 */
export function judgeRotation(input: {
  readonly nowMs: number;
  readonly source: Source;
  readonly leaf: Pick<CertificateReport, 'serialNumber' | 'fingerprintSha256' | 'notBefore' | 'notAfter'>;
  readonly defaultSecret: Pick<SecretReport, 'versionInfo' | 'lastUpdated'> | undefined;
  readonly history: HistoryContext;
}): RotationJudgement {
  const { nowMs, source, leaf, defaultSecret, history } = input;
  const notBeforeMs = Date.parse(leaf.notBefore);
  const notAfterMs = Date.parse(leaf.notAfter);
  const expectedMs = expectedRenewalMs(source, notBeforeMs, notAfterMs, history.renewal);
  const previous = history.previous;
  const unchanged = previous !== null && sameLeaf(previous, leaf);
  const pushMs = pushInstantMs(defaultSecret);
  const pastSlack = expectedMs !== null && nowMs >= expectedMs + history.renewal.slackSeconds * 1000;

  // Proof: the renewal push came (at or after the expected point) and carried the old leaf.
  const provenAcrossSweeps =
    unchanged && expectedMs !== null && pushAdvanced(previous, defaultSecret) && (pushMs !== null ? pushMs >= expectedMs : pastSlack);
  const overdue = provenAcrossSweeps || pastSlack;
  let finding: RotationJudgement['finding'] = null;
  if (overdue) {
    // One sample can show it too: a push at or after the renewal point that still holds this leaf.
    const pushedAfterRenewalPoint = pushMs !== null && expectedMs !== null && pushMs >= expectedMs;
    finding = provenAcrossSweeps || pushedAfterRenewalPoint ? 'sds-push-without-rotation' : 'sds-pushes-stopped';
  }
  return {
    rotation: {
      expectedRenewalAt: expectedMs === null ? null : new Date(expectedMs).toISOString(),
      overdueSeconds: overdue && expectedMs !== null ? Math.max(0, Math.floor((nowMs - expectedMs) / 1000)) : 0,
      provenAcrossSweeps,
    },
    overdue,
    finding,
    ...(previous !== null ? { rotatedSinceLastSweep: !unchanged } : {}),
  };
}

/** The previous observation of a pod as the report shows it. */
export function previousOf(observation: PodObservation): PreviousObservation {
  return {
    serialNumber: observation.serialNumber,
    fingerprintSha256: observation.fingerprintSha256,
    notBefore: observation.notBefore,
    notAfter: observation.notAfter,
    versionInfo: observation.versionInfo,
    lastUpdated: observation.lastUpdated,
    observedAt: observation.observedAt,
  };
}

/** The observation of a judged pod, or null when it held no leaf. */
export function observationOf(pod: PodReport, observedAt: string): PodObservation | null {
  if (!pod.certificate) return null;
  const secret = pod.secrets.find((s) => s.name === 'default');
  return {
    uid: pod.uid,
    namespace: pod.namespace,
    name: pod.name,
    source: pod.source,
    serialNumber: pod.certificate.serialNumber,
    fingerprintSha256: pod.certificate.fingerprintSha256,
    notBefore: pod.certificate.notBefore,
    notAfter: pod.certificate.notAfter,
    versionInfo: secret?.versionInfo ?? null,
    lastUpdated: secret?.lastUpdated ?? null,
    observedAt,
    spiffeId: pod.certificate.spiffeId,
    state: pod.state,
    findings: pod.findings,
  };
}

/** Looks pods up in a snapshot by uid. */
export function indexSnapshot(snapshot: HistorySnapshot | null): ReadonlyMap<string, PodObservation> {
  return new Map((snapshot?.pods ?? []).map((pod) => [pod.uid, pod]));
}

/**
 * The snapshot after a sweep: every pod observed with a leaf now, plus earlier observations of
 * pods this sweep did not read a leaf from but that may still exist (unreachable or missing this
 * time, or not reached by a partial sweep) while their leaf is still valid. Pods a complete sweep
 * no longer lists are dropped. Size: one entry per pod with a leaf, whatever the number of sweeps.
 */
export function nextSnapshot(input: {
  readonly cluster: string;
  readonly sweepId: string;
  readonly now: string;
  readonly partial: boolean;
  readonly pods: readonly PodReport[];
  readonly previous: ReadonlyMap<string, PodObservation>;
}): HistorySnapshot {
  const collector = new SnapshotCollector(input.previous, input.now);
  for (const pod of input.pods) collector.add(pod);
  return collector.snapshot(input);
}

/**
 * `nextSnapshot`, pod by pod as a sweep judges them, so that the sweep need not keep every pod's
 * report until it ends (the sampler keeps only the pods it has events for): what stays per pod is
 * its observation, the snapshot's own entry.
 */
export class SnapshotCollector {
  private readonly byUid = new Map<string, PodObservation>();
  private readonly listed = new Set<string>();

  constructor(
    private readonly previous: ReadonlyMap<string, PodObservation>,
    private readonly now: string,
  ) {}

  add(pod: PodReport): void {
    this.listed.add(pod.uid);
    if (pod.sampled === false) {
      // Judged from its last observation (due-based sampling): that observation stays, with its own time.
      const earlier = this.previous.get(pod.uid);
      if (earlier) this.byUid.set(pod.uid, earlier);
      return;
    }
    const observation = observationOf(pod, this.now);
    if (observation) this.byUid.set(pod.uid, observation);
  }

  snapshot(sweep: { readonly cluster: string; readonly sweepId: string; readonly partial: boolean }): HistorySnapshot {
    const nowMs = Date.parse(this.now);
    const byUid = new Map(this.byUid);
    for (const [uid, earlier] of this.previous) {
      if (byUid.has(uid)) continue;
      if (!sweep.partial && !this.listed.has(uid)) continue;
      if (Date.parse(earlier.notAfter) <= nowMs) continue;
      byUid.set(uid, earlier);
    }
    const pods = [...byUid.values()].sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
    return { format: HISTORY_FORMAT, version: HISTORY_FORMAT_VERSION, cluster: sweep.cluster, sweepId: sweep.sweepId, observedAt: this.now, pods };
  }
}

/** Rotation statistics of one source in one sweep. */
export type SourceRotations = SourceRotationsReport;

/** `rotations` of the report and of `Sweep Completed`. */
export type RotationSummary = RotationsReport;

/**
 * The observed rotation interval of a pod that rotated since its previous observation: seconds
 * between the previous leaf's notBefore and the current one's (rounded); null when it did not
 * rotate, or the dates do not say (a later leaf issued earlier).
 */
export function rotationIntervalSeconds(pod: Pick<PodReport, 'certificate' | 'previous' | 'rotatedSinceLastSweep'>): number | null {
  if (!pod.rotatedSinceLastSweep || !pod.certificate || !pod.previous) return null;
  const interval = (Date.parse(pod.certificate.notBefore) - Date.parse(pod.previous.notBefore)) / 1000;
  return Number.isFinite(interval) && interval > 0 ? Math.round(interval) : null;
}

/** Counts rotations (new leaf since the previous observation) and their intervals, per source. */
export function summarizeRotations(pods: readonly PodReport[]): RotationSummary {
  const tally = new RotationTally();
  for (const pod of pods) tally.add(pod);
  return tally.summary();
}

/** `summarizeRotations`, pod by pod as a sweep judges them: what stays per pod is at most its rotation interval. */
export class RotationTally {
  private readonly sources = new Map<Source, { observed: number; compared: number; overdue: number; intervals: number[] }>();
  private proven = 0;

  add(pod: PodReport): void {
    if (!pod.certificate) return;
    const entry = this.sources.get(pod.source) ?? { observed: 0, compared: 0, overdue: 0, intervals: [] };
    this.sources.set(pod.source, entry);
    if (pod.rotation && pod.rotation.overdueSeconds > 0) entry.overdue++;
    if (pod.rotation?.provenAcrossSweeps) this.proven++;
    if (!pod.previous) return;
    entry.compared++;
    if (pod.rotatedSinceLastSweep) {
      entry.observed++;
      const interval = rotationIntervalSeconds(pod);
      if (interval !== null) entry.intervals.push(interval);
    }
  }

  summary(): RotationSummary {
    const bySource: Partial<Record<Source, SourceRotations>> = {};
    let observed = 0;
    let compared = 0;
    let overdue = 0;
    for (const [source, entry] of this.sources) {
      const intervals = [...entry.intervals].sort((a, b) => a - b);
      bySource[source] = {
        observed: entry.observed,
        compared: entry.compared,
        overdue: entry.overdue,
        intervalSecondsP50: median(intervals),
        intervalSecondsMax: intervals.length > 0 ? intervals[intervals.length - 1]! : null,
      };
      observed += entry.observed;
      compared += entry.compared;
      overdue += entry.overdue;
    }
    return { observed, compared, overdue, provenAcrossSweeps: this.proven, bySource };
  }
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

/**
 * A serial as tbot logs it: lower-case hex byte pairs joined by colons (`45:29:a5:…`), without
 * the DER sign byte node:crypto keeps (a leading `00` before a byte ≥ 0x80).
 */
export function colonSerial(serialHex: string): string {
  let hex = serialHex.replace(/[^0-9a-f]/gi, '').toLowerCase();
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (hex.length > 2 && hex.startsWith('00') && parseInt(hex.slice(2, 4), 16) >= 0x80) hex = hex.slice(2);
  return (hex.match(/../g) ?? []).join(':');
}

/** Why a document is not a usable snapshot (thrown as the caller's typed error). */
export class HistoryFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryFormatError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates a parsed snapshot document. Uncertain history is never used: any field of the wrong
 * type rejects the whole document, naming the first bad path.
 */
export function parseHistorySnapshot(value: unknown): HistorySnapshot {
  if (!isRecord(value)) throw new HistoryFormatError('not a JSON object');
  if (value.format !== HISTORY_FORMAT) throw new HistoryFormatError(`"format" is not "${HISTORY_FORMAT}"`);
  if (value.version !== HISTORY_FORMAT_VERSION) throw new HistoryFormatError(`"version" ${JSON.stringify(value.version)} is not supported (expected ${HISTORY_FORMAT_VERSION})`);
  for (const key of ['cluster', 'sweepId', 'observedAt'] as const) {
    if (typeof value[key] !== 'string') throw new HistoryFormatError(`"${key}" is not a string`);
  }
  if (!Array.isArray(value.pods)) throw new HistoryFormatError('"pods" is not an array');
  const pods = value.pods.map((pod, index) => parsePodObservation(pod, `pods[${index}]`));
  return {
    format: HISTORY_FORMAT,
    version: HISTORY_FORMAT_VERSION,
    cluster: value.cluster as string,
    sweepId: value.sweepId as string,
    observedAt: value.observedAt as string,
    pods,
  };
}

/** Validates one `pods[]` entry of a snapshot; `path` names it in errors. */
export function parsePodObservation(pod: unknown, path: string): PodObservation {
    if (!isRecord(pod)) throw new HistoryFormatError(`${path} is not an object`);
    const text = (key: string): string => {
      if (typeof pod[key] !== 'string' || pod[key] === '') throw new HistoryFormatError(`${path}.${key} is not a non-empty string`);
      return pod[key];
    };
    const instant = (key: string): string => {
      const v = text(key);
      if (!Number.isFinite(Date.parse(v))) throw new HistoryFormatError(`${path}.${key} is not a date-time`);
      return v;
    };
    const nullable = (key: string): string | null => {
      if (pod[key] === null) return null;
      return text(key);
    };
    const source = text('source');
    if (source !== 'tbot' && source !== 'istio-agent' && source !== 'unknown') throw new HistoryFormatError(`${path}.source is not tbot, istio-agent or unknown`);
    const lastUpdated = nullable('lastUpdated');
    if (lastUpdated !== null && !Number.isFinite(Date.parse(lastUpdated))) throw new HistoryFormatError(`${path}.lastUpdated is not a date-time`);
    // Optional (added for due-based sampling): absent in older snapshots, never of the wrong type.
    const judged: { spiffeId?: string | null; state?: State; findings?: readonly Finding[] } = {};
    if (pod.spiffeId !== undefined) judged.spiffeId = nullable('spiffeId');
    if (pod.state !== undefined) {
      if (!(STATES as readonly unknown[]).includes(pod.state)) throw new HistoryFormatError(`${path}.state is not one of ${STATES.join(', ')}`);
      judged.state = pod.state as State;
    }
    if (pod.findings !== undefined) {
      const findings = pod.findings;
      if (!Array.isArray(findings) || !findings.every((f) => (FINDINGS as readonly unknown[]).includes(f))) {
        throw new HistoryFormatError(`${path}.findings is not a list of findings`);
      }
      judged.findings = findings as Finding[];
    }
    return {
      uid: text('uid'),
      namespace: text('namespace'),
      name: text('name'),
      source,
      serialNumber: text('serialNumber'),
      fingerprintSha256: text('fingerprintSha256'),
      notBefore: instant('notBefore'),
      notAfter: instant('notAfter'),
      versionInfo: nullable('versionInfo'),
      lastUpdated,
      observedAt: instant('observedAt'),
      ...judged,
    };
}

const PODS_OPENING = ',"pods":[';
const CLOSING = ']}';

/**
 * The snapshot's JSON text, one pod per line (a single JSON document all the same), so that it is
 * written and read a line at a time: neither side holds the whole text in memory.
 */
export function* snapshotLines(snapshot: HistorySnapshot): Generator<string> {
  const { pods, ...header } = snapshot;
  yield `${JSON.stringify(header).slice(0, -1)}${PODS_OPENING}`;
  for (let index = 0; index < pods.length; index++) yield `${JSON.stringify(pods[index])}${index < pods.length - 1 ? ',' : ''}`;
  yield CLOSING;
}

/**
 * Reads a snapshot a line at a time (the `snapshotLines` layout); any other layout of the same
 * JSON document is read whole. Validation is `parseHistorySnapshot`'s.
 */
export async function parseSnapshotLines(lines: AsyncIterable<string>): Promise<HistorySnapshot> {
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head = first.done ? '' : first.value;
  if (!head.endsWith(PODS_OPENING)) {
    // Not our line layout: read the document whole.
    let text = head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += `\n${next.value}`;
    return parseHistorySnapshot(parseJson(text, 'the document'));
  }
  const header = parseHistorySnapshot(parseJson(`${head}${CLOSING}`, 'line 1'));
  const pods: PodObservation[] = [];
  let closed = false;
  let lineNumber = 1;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    lineNumber++;
    const line = next.value.trim();
    if (line === '') continue;
    if (closed) throw new HistoryFormatError(`line ${lineNumber}: text after the end of the document`);
    if (line === CLOSING) {
      closed = true;
      continue;
    }
    const entry = line.endsWith(',') ? line.slice(0, -1) : line;
    pods.push(parsePodObservation(parseJson(entry, `line ${lineNumber}`), `pods[${pods.length}]`));
  }
  if (!closed) throw new HistoryFormatError(`the document ends without "${CLOSING}" (truncated?)`);
  return { ...header, pods };
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HistoryFormatError(`${where} is not JSON (${error instanceof Error ? error.message.slice(0, 80) : 'unparsable'})`);
  }
}
