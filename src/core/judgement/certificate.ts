/**
 * X.509 facts from PEM text with node:crypto. Only CERTIFICATE blocks are ever parsed: any other
 * PEM block (a private key that slipped through unredacted, parameters...) is skipped unread.
 */
import { X509Certificate } from 'node:crypto';
import { DumpError } from '../model/errors.js';

/** What the watcher reads from a leaf certificate. */
export interface LeafDescription {
  /** Upper-case hex as node:crypto gives it (DER bytes, so a leading `0` may appear). */
  readonly serialNumber: string;
  /** Upper-case colon-separated SHA-256 fingerprint. */
  readonly fingerprintSha256: string;
  /** First `spiffe://` URI SAN, or null. */
  readonly spiffeId: string | null;
  /** ISO 8601 (`toISOString()`). */
  readonly notBefore: string;
  readonly notAfter: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly lifetimeSeconds: number;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BEGIN_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * The CERTIFICATE blocks of a PEM bundle, in order, each as its own PEM string. Other block types
 * are dropped; an unterminated or mismatched CERTIFICATE block is a DumpError.
 */
export function splitPemCertificates(pemText: string): string[] {
  const certificates: string[] = [];
  let consumedCertificateHeaders = 0;
  for (const match of pemText.matchAll(PEM_BLOCK)) {
    const [, beginLabel, body = '', endLabel] = match;
    if (beginLabel !== 'CERTIFICATE') continue;
    consumedCertificateHeaders += 1;
    if (endLabel !== 'CERTIFICATE') throw new DumpError(`PEM certificate ${certificates.length + 1} has a mismatched END line`);
    certificates.push(`${BEGIN_CERTIFICATE}\n${body.trim()}\n-----END CERTIFICATE-----\n`);
  }
  if (countOccurrences(pemText, BEGIN_CERTIFICATE) !== consumedCertificateHeaders) {
    throw new DumpError('PEM text has a CERTIFICATE block without its END line (truncated?)');
  }
  return certificates;
}

/**
 * Parses every certificate of a PEM bundle (leaf first for a chain). Throws DumpError when the
 * text holds no certificate or one does not parse; `what` names the bundle in messages.
 */
export function parseCertificates(pemText: string, what = 'PEM bundle'): X509Certificate[] {
  const blocks = splitPemCertificates(pemText);
  if (blocks.length === 0) throw new DumpError(`${what} contains no PEM CERTIFICATE block`);
  return blocks.map((block, index) => {
    const cached = parsedCertificates.get(block);
    if (cached) {
      // Re-insert so certificates every pod shares (intermediates, roots) stay in the cache.
      parsedCertificates.delete(block);
      parsedCertificates.set(block, cached);
      return cached;
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      throw new DumpError(`${what}: certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate`, { cause: error });
    }
    parsedCertificates.set(block, certificate);
    if (parsedCertificates.size > PARSED_CERTIFICATE_CACHE_SIZE) parsedCertificates.delete(parsedCertificates.keys().next().value as string);
    return certificate;
  });
}

/**
 * A mesh's pods all present the same intermediates and trust bundle: parsing them (and checking
 * their signatures) once per process instead of once per pod cuts a sweep's CPU by about half.
 * Bounded LRU keyed by the PEM block; leaves pass through and age out.
 */
const PARSED_CERTIFICATE_CACHE_SIZE = 256;
const parsedCertificates = new Map<string, X509Certificate>();
const issuedByCache = new WeakMap<X509Certificate, WeakMap<X509Certificate, boolean>>();

export function describeLeaf(leaf: X509Certificate): LeafDescription {
  const notBeforeMs = leaf.validFromDate.getTime();
  const notAfterMs = leaf.validToDate.getTime();
  return {
    serialNumber: leaf.serialNumber.toUpperCase(),
    fingerprintSha256: leaf.fingerprint256,
    spiffeId: spiffeIdOf(leaf),
    notBefore: new Date(notBeforeMs).toISOString(),
    notAfter: new Date(notAfterMs).toISOString(),
    notBeforeMs,
    notAfterMs,
    lifetimeSeconds: Math.floor((notAfterMs - notBeforeMs) / 1000),
  };
}

/** First `spiffe://` URI SAN of the certificate, or null. */
export function spiffeIdOf(certificate: X509Certificate): string | null {
  for (const { type, value } of subjectAltNames(certificate.subjectAltName)) {
    if (type === 'URI' && /^spiffe:\/\//i.test(value)) return value;
  }
  return null;
}

// node renders SANs as `URI:a, DNS:b`; values with special characters are JSON-quoted.
const SAN_ENTRY = /([A-Za-z][A-Za-z ]*):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;

function subjectAltNames(text: string | undefined): { type: string; value: string }[] {
  if (!text) return [];
  const entries: { type: string; value: string }[] = [];
  SAN_ENTRY.lastIndex = 0;
  while (SAN_ENTRY.lastIndex < text.length) {
    const match = SAN_ENTRY.exec(text);
    if (!match) break;
    const [, type = '', raw = ''] = match;
    entries.push({ type, value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return entries;
}

/**
 * True when the chain (leaf first, intermediates in any order) links by issuer name and
 * signature to a certificate of the bundle, or when a chain certificate is itself in the bundle.
 * Validity dates are not checked here: expiry is judged separately, on the leaf.
 */
export function chainVerifiesAgainst(
  chain: string | readonly X509Certificate[],
  bundle: string | readonly X509Certificate[],
): boolean {
  const chainCertificates = typeof chain === 'string' ? parseCertificates(chain, 'certificate chain') : chain;
  const anchors = typeof bundle === 'string' ? parseCertificates(bundle, 'trust bundle') : bundle;
  const [leaf, ...rest] = chainCertificates;
  if (leaf === undefined || anchors.length === 0) return false;
  const anchorFingerprints = new Set(anchors.map((anchor) => anchor.fingerprint256));
  const unused = [...rest];
  let current: X509Certificate = leaf;
  // Each step consumes one intermediate, so the walk ends after at most chain-length steps.
  for (;;) {
    if (anchorFingerprints.has(current.fingerprint256)) return true;
    const child = current;
    if (anchors.some((anchor) => isIssuedBy(child, anchor))) return true;
    const nextIndex = unused.findIndex((candidate) => isIssuedBy(child, candidate));
    if (nextIndex < 0) return false;
    current = unused.splice(nextIndex, 1)[0] as X509Certificate;
  }
}

/** Why a chain is not trusted at an instant (docs/contract.md §3, `bundle-mismatch`). */
export type ChainProblem =
  /** No path from the leaf to a certificate of the bundle. */
  | { readonly kind: 'untrusted' }
  /** Every path that reaches the bundle goes through a certificate outside its validity window. */
  | { readonly kind: 'expired' | 'not-yet-valid'; readonly subject: string; readonly at: string };

export interface ChainTimeOptions {
  readonly nowMs: number;
  /** A chain certificate whose notBefore is later than now by at most this much still counts as valid. */
  readonly clockSkewAllowanceMs: number;
}

/**
 * Judges the leaf's verification path the way a peer's TLS stack does: some path from the leaf,
 * through intermediates of the chain (any order), must end at a certificate of the bundle, and
 * every intermediate and root on it must be valid at `now` (OpenSSL/BoringSSL check every
 * certificate's dates, the trust anchor's included). The leaf's own dates are judged separately
 * (the pod's state). Returns null when such a path exists, else the most telling problem: a path
 * that only failed on dates beats "no path".
 */
export function chainProblemAt(
  chain: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  time: ChainTimeOptions,
): ChainProblem | null {
  const [leaf, ...intermediates] = chain;
  if (leaf === undefined || anchors.length === 0) return { kind: 'untrusted' };
  let datedProblem: ChainProblem | null = null;
  const anchorsByFingerprint = new Map(anchors.map((anchor) => [anchor.fingerprint256, anchor]));
  const timeProblem = (certificate: X509Certificate): ChainProblem | null => {
    const notBeforeMs = certificate.validFromDate.getTime();
    const notAfterMs = certificate.validToDate.getTime();
    if (time.nowMs >= notAfterMs) return { kind: 'expired', subject: certificate.subject, at: new Date(notAfterMs).toISOString() };
    if (time.nowMs < notBeforeMs - time.clockSkewAllowanceMs) {
      return { kind: 'not-yet-valid', subject: certificate.subject, at: new Date(notBeforeMs).toISOString() };
    }
    return null;
  };
  // Depth-first over paths; each step consumes one intermediate, so depth <= chain length. A
  // date problem counts only on a path that reaches the bundle (a foreign chain is "untrusted").
  const search = (current: X509Certificate, unused: readonly X509Certificate[], pathProblem: ChainProblem | null): boolean => {
    const reached = (problem: ChainProblem | null): boolean => {
      if (problem === null) return true;
      datedProblem ??= problem;
      return false;
    };
    if (anchorsByFingerprint.has(current.fingerprint256) && reached(pathProblem)) return true;
    for (const anchor of anchors) {
      if (isIssuedBy(current, anchor) && reached(pathProblem ?? timeProblem(anchor))) return true;
    }
    return unused.some(
      (candidate, index) =>
        isIssuedBy(current, candidate) && search(candidate, unused.filter((_, other) => other !== index), pathProblem ?? timeProblem(candidate)),
    );
  };
  return search(leaf, intermediates, null) ? null : (datedProblem ?? { kind: 'untrusted' });
}

/** The trust domain (lower-case host) of a `spiffe://` ID, or null when it has none. */
export function trustDomainOf(spiffeId: string | null): string | null {
  if (spiffeId === null) return null;
  const match = /^spiffe:\/\/([^/?#]+)/i.exec(spiffeId);
  return match?.[1]?.toLowerCase() ?? null;
}

function isIssuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  let byIssuer = issuedByCache.get(child);
  const known = byIssuer?.get(issuer);
  if (known !== undefined) return known;
  const issued = child.checkIssued(issuer) && child.verify(issuer.publicKey);
  if (!byIssuer) issuedByCache.set(child, (byIssuer = new WeakMap()));
  byIssuer.set(issuer, issued);
  return issued;
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) count += 1;
  return count;
}
