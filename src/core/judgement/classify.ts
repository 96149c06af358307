/**
 * Judges one sidecar's secrets: the state of its `default` leaf, the findings that explain it and
 * who serves SDS. Pure: the evaluation instant and thresholds come from the caller.
 */
import type { X509Certificate } from 'node:crypto';
import { chainProblemAt, describeLeaf, parseCertificates, trustDomainOf } from './certificate.js';
import { findActive, type ParsedSecret, type ParsedSecrets, type TrustBundle } from './envoy-secrets.js';
import { describeError, DumpError } from '../model/errors.js';
import { judgeRotation, type HistoryContext } from './history.js';
import { clockSkewAllowanceSeconds, thresholdSeconds } from '../model/threshold.js';
import {
  FINDINGS,
  type CertificateReport,
  type CertificateVerdict,
  type Finding,
  type SecretReport,
  type Source,
  type State,
  type Thresholds,
} from '../model/types.js';

/** SDS resource names Istio asks for: the workload certificate and the trust bundle. */
export const WORKLOAD_SECRET_NAME = 'default';
export const ROOT_CA_SECRET_NAME = 'ROOTCA';
/**
 * The Istio agent serves file-mounted certificates (`/etc/certs/…`) under these SDS names:
 * `file-cert:<chain>~<key>` and `file-root:<bundle>`. They stand in for `default` / `ROOTCA`.
 */
export const FILE_CERT_PREFIX = 'file-cert:';
export const FILE_ROOT_PREFIX = 'file-root:';
/** The error of a pod whose certificate chain Envoy reads from a file: the dump holds only its path. */
export const FILE_REFERENCE_ERROR = 'cannot judge: the certificate is a file reference';

export interface PodIdentityContext {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** From `podWorkloadCertsBesideSocket(pod.spec)`. */
  readonly workloadCertsBesideSocket: boolean;
}

export interface ClassifyContext {
  readonly now: Date;
  readonly thresholds: Thresholds;
  /** Absent for `inspect` of a bare dump: identity and volume findings are then not judged. */
  readonly pod?: PodIdentityContext;
  /**
   * Rotation history (docs/contract.md §8): the pod's previous observation and the renewal
   * policy. When given, a leaf past its expected renewal point is `stale`, and the verdict gains
   * `rotation` (and `previous` / `rotatedSinceLastSweep` when there is a previous observation).
   */
  readonly history?: HistoryContext;
}

const RFC3339 = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})`;
/** tbot: `time.Now().UTC().Format(time.RFC3339Nano)` (trailing zeros, and then the dot, trimmed). */
const TBOT_VERSION = new RegExp(`^${RFC3339}$`);
/** Istio agent SDS server: `<RFC3339>/<counter>`. */
const AGENT_VERSION = new RegExp(`^${RFC3339}/\\d+$`);

export function classifySecrets(secrets: ParsedSecrets, context: ClassifyContext): CertificateVerdict {
  const nowMs = context.now.getTime();
  const workload = workloadSecret(secrets);
  const trustBundle = trustBundleSecret(secrets)?.trustBundle ?? null;
  const source = inferSource(workload, trustBundle);
  const secretReports = reportSecrets(secrets, nowMs);
  const findings = new Set<Finding>();
  if (context.pod?.workloadCertsBesideSocket && source === 'istio-agent') findings.add('workload-certs-volume');

  const chainPem = workload?.certificateChainPem ?? null;
  if (chainPem === null && workload?.certificateChainReference !== undefined) {
    // Envoy has a certificate, but only its path is in the dump: nothing to judge, nothing missing.
    return { state: 'unreachable', findings: [], source, certificate: null, secrets: secretReports, error: FILE_REFERENCE_ERROR };
  }
  if (chainPem === null || chainPem.trim() === '') {
    return { state: 'missing', findings: orderFindings(findings), source, certificate: null, secrets: secretReports };
  }

  let chain: X509Certificate[];
  try {
    chain = parseCertificates(chainPem, `"${WORKLOAD_SECRET_NAME}" certificate chain`);
  } catch (error) {
    if (!(error instanceof DumpError)) throw error;
    // Uncertain data is never judged: the pod is reported as not sampled, with the reason.
    return { state: 'unreachable', findings: [], source, certificate: null, secrets: secretReports, error: describeError(error) };
  }
  const leaf = describeLeaf(chain[0] as X509Certificate);

  const ageSeconds = Math.max(0, (nowMs - leaf.notBeforeMs) / 1000);
  const remainingSeconds = (leaf.notAfterMs - nowMs) / 1000;
  const clockSkewAllowanceMs = clockSkewAllowanceSeconds(context.thresholds) * 1000;
  const judgement = context.history
    ? judgeRotation({
        nowMs,
        source,
        leaf,
        defaultSecret: secretReports.find((secret) => secret.name === (workload?.name ?? WORKLOAD_SECRET_NAME)),
        history: context.history,
      })
    : null;
  const { state, isStale, notYetValid, staleAfterSeconds } = leafTimeState({
    nowMs,
    notBeforeMs: leaf.notBeforeMs,
    notAfterMs: leaf.notAfterMs,
    lifetimeSeconds: leaf.lifetimeSeconds,
    thresholds: context.thresholds,
    overdue: judgement?.overdue === true,
  });
  if (notYetValid) findings.add('not-yet-valid');

  if (judgement?.finding) {
    // History judges first: it knows the renewal point (and maybe a push seen across sweeps).
    findings.add(judgement.finding);
  } else if (isStale) {
    findings.add(staleFinding(workload?.lastUpdated ? pushAgeSeconds(workload.lastUpdated, nowMs) : null, staleAfterSeconds));
  }
  // No SPIFFE ID is a mismatch with or without a pod to compare with: peers cannot authorise it.
  if (leaf.spiffeId === null || (context.pod && !identityMatches(leaf.spiffeId, context.pod))) findings.add('identity-mismatch');
  if (trustBundle && !chainMatchesBundle(chain, leaf.spiffeId, trustBundle, { nowMs, clockSkewAllowanceMs })) findings.add('bundle-mismatch');

  const certificate: CertificateReport = {
    serialNumber: leaf.serialNumber,
    fingerprintSha256: leaf.fingerprintSha256,
    spiffeId: leaf.spiffeId,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    ageSeconds: Math.floor(ageSeconds),
    remainingSeconds: Math.floor(remainingSeconds),
    lifetimeSeconds: leaf.lifetimeSeconds,
  };
  const history = context.history;
  return {
    state,
    findings: orderFindings(findings),
    source,
    certificate,
    secrets: secretReports,
    ...(history?.previous ? { previous: history.previous, rotatedSinceLastSweep: judgement!.rotatedSinceLastSweep === true } : {}),
    ...(judgement ? { rotation: judgement.rotation } : {}),
  };
}

/** The part of a leaf's verdict that depends only on its validity window, the thresholds and the clock. */
export interface LeafTimeState {
  readonly state: Extract<State, 'healthy' | 'stale' | 'expiring' | 'expired'>;
  /** Older than `staleAfter`. */
  readonly isStale: boolean;
  /** notBefore further in the future than the clock-skew allowance (then the state is `expired`). */
  readonly notYetValid: boolean;
  readonly staleAfterSeconds: number;
  readonly expiringWithinSeconds: number;
}

/**
 * The time-based state of a leaf at `nowMs` (docs/contract.md §2): expired (past notAfter, or
 * not yet valid), expiring, stale (older than `staleAfter`, or `overdue` by the rotation
 * history), else healthy. classifySecrets and the judgement of a pod from its last observation
 * (due.ts) share it, so a pod not sampled is judged on exactly the same rules.
 */
export function leafTimeState(input: {
  readonly nowMs: number;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly lifetimeSeconds: number;
  readonly thresholds: Thresholds;
  readonly overdue: boolean;
}): LeafTimeState {
  const { nowMs, thresholds } = input;
  const ageSeconds = Math.max(0, (nowMs - input.notBeforeMs) / 1000);
  const remainingSeconds = (input.notAfterMs - nowMs) / 1000;
  const staleAfterSeconds = thresholdSeconds(thresholds.staleAfter, input.lifetimeSeconds);
  const expiringWithinSeconds = thresholdSeconds(thresholds.expiringWithin, input.lifetimeSeconds);
  const isStale = ageSeconds >= staleAfterSeconds;
  // Peers reject a leaf before its notBefore just as after its notAfter (docs/contract.md §2).
  const notYetValid = nowMs < input.notBeforeMs - clockSkewAllowanceSeconds(thresholds) * 1000;
  let state: LeafTimeState['state'] = 'healthy';
  if (nowMs >= input.notAfterMs || notYetValid) state = 'expired';
  else if (remainingSeconds < expiringWithinSeconds) state = 'expiring';
  else if (isStale || input.overdue) state = 'stale';
  return { state, isStale, notYetValid, staleAfterSeconds, expiringWithinSeconds };
}

/** Why a leaf older than `staleAfter` did not rotate: a recent push that still carries it means the issuer re-sends its cached SVID. */
export function staleFinding(pushAgeSeconds: number | null, staleAfterSeconds: number): 'sds-push-without-rotation' | 'sds-pushes-stopped' {
  return pushAgeSeconds !== null && pushAgeSeconds < staleAfterSeconds ? 'sds-push-without-rotation' : 'sds-pushes-stopped';
}

/** The verdict for a pod whose dump could not be obtained or read. */
export function unreachableVerdict(error: string): CertificateVerdict {
  return { state: 'unreachable', findings: [], source: 'unknown', certificate: null, secrets: [], error };
}

/** Who serves SDS, from the `default` version stamp and the ROOTCA shape (docs/contract.md §3). */
export function inferSource(workload: ParsedSecret | undefined, trustBundle: TrustBundle | null): Source {
  const version = workload?.versionInfo ?? null;
  if (version !== null && TBOT_VERSION.test(version) && trustBundle?.shape === 'spiffe') return 'tbot';
  if ((version !== null && AGENT_VERSION.test(version)) || trustBundle?.shape === 'trusted_ca') return 'istio-agent';
  return 'unknown';
}

/** True when the SPIFFE ID path is exactly `/ns/<namespace>/sa/<serviceAccount>` (any trust domain). */
export function identityMatches(spiffeId: string | null, pod: { namespace: string; serviceAccount: string }): boolean {
  if (spiffeId === null) return false;
  const match = /^spiffe:\/\/[^/]+(\/.*)$/i.exec(spiffeId);
  return match?.[1] === `/ns/${pod.namespace}/sa/${pod.serviceAccount}`;
}

/** The secret judged as the workload certificate: `default`, else a file-mounted `file-cert:…`. */
export function workloadSecret(secrets: ParsedSecrets): ParsedSecret | undefined {
  return findActive(secrets, WORKLOAD_SECRET_NAME) ?? secrets.active.find((secret) => secret.name.startsWith(FILE_CERT_PREFIX));
}

/** The secret judged as the trust bundle: `ROOTCA`, else a file-mounted `file-root:…`. */
export function trustBundleSecret(secrets: ParsedSecrets): ParsedSecret | undefined {
  return findActive(secrets, ROOT_CA_SECRET_NAME) ?? secrets.active.find((secret) => secret.name.startsWith(FILE_ROOT_PREFIX));
}

/**
 * Would a peer holding this bundle accept the chain now? `trusted_ca` (Istio agent): against all
 * its certificates. SPIFFE validator (tbot, SPIRE): only against the bundle of the leaf's own
 * trust domain, as Envoy's validator picks it; a leaf without a SPIFFE ID, or of a trust domain
 * the validator has no bundle for, is rejected. A domain bundle given as a file is not judged.
 */
function chainMatchesBundle(
  chain: readonly X509Certificate[],
  spiffeId: string | null,
  trustBundle: TrustBundle,
  time: { nowMs: number; clockSkewAllowanceMs: number },
): boolean {
  let pems = trustBundle.pems;
  if (trustBundle.shape === 'spiffe') {
    const trustDomain = trustDomainOf(spiffeId);
    const domain = trustBundle.domainBundles.find((candidate) => normaliseTrustDomain(candidate.name) === trustDomain);
    if (trustDomain === null || domain === undefined) return false;
    if (domain.pem === null) return domain.reference !== undefined; // a file reference: cannot judge, so no finding
    pems = domain.pem;
  }
  let anchors: X509Certificate[];
  try {
    anchors = parseCertificates(pems, `"${ROOT_CA_SECRET_NAME}" trust bundle`);
  } catch (error) {
    if (!(error instanceof DumpError)) throw error;
    // Nothing can verify against a bundle Envoy holds but that is not a readable certificate set.
    return false;
  }
  return chainProblemAt(chain, anchors, time) === null;
}

/** Trust domain names as the validator config may spell them: `example.org` or `spiffe://example.org`. */
function normaliseTrustDomain(name: string): string {
  return name.replace(/^spiffe:\/\//i, '').replace(/\/+$/, '').toLowerCase();
}

function reportSecrets(secrets: ParsedSecrets, nowMs: number): SecretReport[] {
  return [...secrets.active, ...secrets.warming].map((secret) => ({
    name: secret.name,
    versionInfo: secret.versionInfo,
    lastUpdated: secret.lastUpdated ? secret.lastUpdated.toISOString() : null,
    pushAgeSeconds: secret.lastUpdated ? Math.floor(pushAgeSeconds(secret.lastUpdated, nowMs)) : null,
  }));
}

/** Seconds since Envoy accepted the push; a push stamped in the future (clock skew) counts as 0. */
function pushAgeSeconds(lastUpdated: Date, nowMs: number): number {
  return Math.max(0, (nowMs - lastUpdated.getTime()) / 1000);
}

function orderFindings(findings: ReadonlySet<Finding>): Finding[] {
  return FINDINGS.filter((finding) => findings.has(finding));
}

/** Minimal structural view of `V1PodSpec` volumes (so the core needs no Kubernetes types). */
export interface PodVolumesSpec {
  readonly volumes?: readonly { readonly name: string; readonly emptyDir?: unknown; readonly csi?: { readonly driver?: string } }[];
}

export const SPIFFE_CSI_DRIVER = 'csi.spiffe.io';

/**
 * True when the pod has a `workload-certs` emptyDir beside a SPIFFE workload-socket volume: the
 * SPIFFE CSI driver, or a `workload-socket` volume that is not an emptyDir (Istio's `spire`
 * injection template replaces the default emptyDir with the CSI volume).
 */
export function podWorkloadCertsBesideSocket(spec: PodVolumesSpec | null | undefined): boolean {
  const volumes = spec?.volumes ?? [];
  const hasCertsEmptyDir = volumes.some((volume) => volume.name === 'workload-certs' && volume.emptyDir != null);
  const hasSpiffeSocket = volumes.some(
    (volume) => volume.csi?.driver === SPIFFE_CSI_DRIVER || (volume.name === 'workload-socket' && volume.emptyDir == null),
  );
  return hasCertsEmptyDir && hasSpiffeSocket;
}

/** True when the pod mounts the SPIFFE CSI driver's workload socket (tbot serves it through the driver). */
export function podHasSpiffeSocket(spec: PodVolumesSpec | null | undefined): boolean {
  return (spec?.volumes ?? []).some((volume) => volume.csi?.driver === SPIFFE_CSI_DRIVER);
}
