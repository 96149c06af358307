/**
 * EKS bearer tokens, signed locally.
 *
 * Why: the sampler Lambda talks to the Kubernetes API of an EKS cluster with its own IAM
 * identity. EKS (aws-iam-authenticator) accepts a presigned STS `GetCallerIdentity` URL as a
 * bearer token; signing it locally avoids shelling out to `aws eks get-token` and any extra
 * network call. The format is a contract with the API server, so it follows
 * aws-iam-authenticator / `aws eks get-token` exactly (checked against botocore output in
 * test/vectors): `k8s-aws-v1.` + unpadded base64url of
 * `https://sts.<region>.<partition suffix>/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-...`
 * with the `x-k8s-aws-id: <cluster>` header signed in, valid 60 s to present (STS accepts it
 * for 15 min; we declare it expired after 14 like the CLI does).
 *
 * Tokens are credentials: never log them or put them in error messages.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ConfigError, MeshCertWatchError } from '../core/model/errors.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** Header that binds the token to one cluster (aws-iam-authenticator checks it). */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** `X-Amz-Expires` of the presigned URL, as aws-iam-authenticator and the CLI use. */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** Declared lifetime of a token: STS honours 15 min; report 14 to refresh early (as the CLI). */
export const TOKEN_LIFETIME_MS = 14 * 60_000;

const STS_ACTION = 'GetCallerIdentity';
const STS_VERSION = '2011-06-15';

export interface EksTokenOptions {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  /** Defaults to now. */
  readonly signingDate?: Date;
}

export interface EksToken {
  readonly token: string;
  /**
   * signingDate + 14 min, or the credentials' own `expiration` when that comes first
   * (a URL signed with temporary credentials dies with them).
   */
  readonly expiresAt: Date;
}

export interface DecodedEksToken {
  readonly url: URL;
  readonly host: string;
  /** Query parameters by name (first value wins). */
  readonly query: Readonly<Record<string, string>>;
  /** `X-Amz-SignedHeaders`, split on `;`. */
  readonly signedHeaders: readonly string[];
}

/** DNS suffix per partition, by region prefix; everything else is the `aws` partition. */
const PARTITION_SUFFIXES: readonly (readonly [prefix: string, suffix: string])[] = [
  ['cn-', 'amazonaws.com.cn'],
  ['us-isob-', 'sc2s.sgov.gov'],
  ['us-isof-', 'csp.hci.ic.gov'],
  ['us-iso-', 'c2s.ic.gov'],
  ['eu-isoe-', 'cloud.adc-e.uk'],
  ['eusc-', 'amazonaws.eu'],
];

const REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

/** Regional STS host for a region (the API server only accepts regional/partition STS hosts). */
export function stsHostForRegion(region: string): string {
  if (!REGION_PATTERN.test(region)) {
    throw new ConfigError('region', `not an AWS region name: ${JSON.stringify(region)}`);
  }
  const suffix = PARTITION_SUFFIXES.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'amazonaws.com';
  return `sts.${region}.${suffix}`;
}

/** RFC 3986 percent-encoding (unreserved: A-Z a-z 0-9 - _ . ~), as SigV4 and botocore use. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Presign the STS request and wrap it as an EKS bearer token. */
export async function createEksToken(options: EksTokenOptions): Promise<EksToken> {
  const { clusterName, region, credentials } = options;
  if (clusterName.trim() === '') throw new ConfigError('clusterName', 'must not be empty');
  const signingDate = options.signingDate ?? new Date();
  if (Number.isNaN(signingDate.getTime())) throw new ConfigError('signingDate', 'invalid date');
  const host = stsHostForRegion(region);

  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256, uriEscapePath: true });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: STS_ACTION, Version: STS_VERSION },
    headers: { host, [CLUSTER_ID_HEADER]: clusterName },
  });

  let signed: HttpRequest;
  try {
    signed = (await signer.presign(request, {
      signingDate,
      expiresIn: PRESIGN_EXPIRES_SECONDS,
      // Keep the cluster header signed (never hoisted to the query): the API server checks it.
      unhoistableHeaders: new Set([CLUSTER_ID_HEADER]),
    })) as HttpRequest;
  } catch (cause) {
    throw new MeshCertWatchError('AWS', `could not sign the EKS token for cluster ${clusterName}`, { cause });
  }

  const q = signed.query;
  const pick = (name: string): string => {
    const value = q[name];
    if (typeof value !== 'string') {
      throw new MeshCertWatchError('AWS', `signed STS request lacks ${name}`);
    }
    return value;
  };
  // Parameter order as botocore / `aws eks get-token` write it: operation parameters, then the
  // auth parameters, security token last but one, signature last. SigV4 itself sorts the
  // canonical query, so the order only matters for byte-identical tokens.
  const params: [string, string][] = [
    ['Action', STS_ACTION],
    ['Version', STS_VERSION],
    ['X-Amz-Algorithm', pick('X-Amz-Algorithm')],
    ['X-Amz-Credential', pick('X-Amz-Credential')],
    ['X-Amz-Date', pick('X-Amz-Date')],
    ['X-Amz-Expires', pick('X-Amz-Expires')],
    ['X-Amz-SignedHeaders', pick('X-Amz-SignedHeaders')],
  ];
  if (credentials.sessionToken) params.push(['X-Amz-Security-Token', pick('X-Amz-Security-Token')]);
  params.push(['X-Amz-Signature', pick('X-Amz-Signature')]);

  const url = `https://${host}/?${params.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&')}`;
  const token = EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
  let expiresAt = signingDate.getTime() + TOKEN_LIFETIME_MS;
  const credentialsExpire = credentials.expiration?.getTime();
  if (credentialsExpire !== undefined && !Number.isNaN(credentialsExpire)) expiresAt = Math.min(expiresAt, credentialsExpire);
  return { token, expiresAt: new Date(expiresAt) };
}

/** Decode a token back to its presigned URL (tests, diagnostics). Throws on a malformed token. */
export function decodeEksToken(token: string): DecodedEksToken {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) {
    throw new MeshCertWatchError('AWS', `not an EKS token (expected prefix ${EKS_TOKEN_PREFIX})`);
  }
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) {
    throw new MeshCertWatchError('AWS', 'EKS token payload is not unpadded base64url');
  }
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new MeshCertWatchError('AWS', 'EKS token payload is not a URL', { cause });
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (!(k in query)) query[k] = v;
  const signedHeaders = (query['X-Amz-SignedHeaders'] ?? '').split(';').filter((h) => h !== '');
  return { url, host: url.host, query, signedHeaders };
}

export interface EksTokenProviderOptions {
  readonly clusterName: string;
  readonly region: string;
  /** Any AWS SDK credential provider (e.g. `fromNodeProviderChain()`); called on each refresh. */
  readonly credentials: AwsCredentialIdentityProvider;
  /** Refresh when less than this remains before `expiresAt` (default 60 s). */
  readonly refreshBeforeMs?: number;
  /** Injectable clock (tests). */
  readonly clock?: () => Date;
}

/**
 * Caches one token per cluster and re-signs it when less than `refreshBeforeMs` of its declared
 * life remains. Concurrent callers during a refresh share one signing. A failed refresh throws
 * (typed, with cause); it is never hidden behind a stale token.
 */
export class EksTokenProvider {
  private current: EksToken | undefined;
  private pending: Promise<EksToken> | undefined;
  private readonly refreshBeforeMs: number;
  private readonly clock: () => Date;

  constructor(private readonly options: EksTokenProviderOptions) {
    this.refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
    if (!(this.refreshBeforeMs >= 0 && this.refreshBeforeMs < TOKEN_LIFETIME_MS)) {
      throw new ConfigError('refreshBeforeMs', `must be in [0, ${TOKEN_LIFETIME_MS})`);
    }
    this.clock = options.clock ?? (() => new Date());
  }

  /** A token valid for at least `refreshBeforeMs` more. */
  async getToken(): Promise<EksToken> {
    const now = this.clock().getTime();
    if (this.current && this.current.expiresAt.getTime() - now > this.refreshBeforeMs) return this.current;
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forget the cached token (e.g. after the API server answered 401). */
  invalidate(): void {
    this.current = undefined;
  }

  private async refresh(): Promise<EksToken> {
    let credentials: AwsCredentialIdentity;
    try {
      credentials = await this.options.credentials();
    } catch (cause) {
      throw new MeshCertWatchError('AWS', `could not resolve AWS credentials for the EKS token of ${this.options.clusterName}`, {
        cause,
      });
    }
    const token = await createEksToken({
      clusterName: this.options.clusterName,
      region: this.options.region,
      credentials,
      signingDate: this.clock(),
    });
    this.current = token;
    return token;
  }
}
