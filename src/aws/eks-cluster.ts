/**
 * Connection details of an EKS cluster and a client-node `KubeConfig` that authenticates with
 * locally signed, auto-refreshed EKS tokens.
 *
 * Why: the sampler Lambda gets only a cluster name. It looks up the API endpoint and CA once per
 * warm container (DescribeCluster is rate limited and the answer changes rarely), and it must
 * keep using fresh tokens across a long sweep and across warm invocations: a static
 * `user.token` would expire after 15 min, so the token is applied per request by a custom
 * client-node `Authenticator` that asks the `EksTokenProvider` each time.
 */
import { DescribeClusterCommand, type DescribeClusterCommandOutput } from '@aws-sdk/client-eks';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { ClusterUnreachableError, ConfigError, MeshCertWatchError } from '../core/model/errors.js';
import type { EksTokenProvider } from './eks-token.js';

export interface ClusterEndpoint {
  /** `https://<id>.<gr7>.<region>.eks.amazonaws.com` */
  readonly endpoint: string;
  /** Base64 PEM bundle, as DescribeCluster returns it and kubeconfig expects it. */
  readonly certificateAuthorityData: string;
}

/** Why a cluster cannot be used; the sampler reports it as "cluster unreachable". */
export type EksClusterProblem = 'not-found' | 'not-ready' | 'no-endpoint';

export class EksClusterError extends ClusterUnreachableError {
  constructor(
    readonly clusterName: string,
    readonly problem: EksClusterProblem,
    /** DescribeCluster `status`, when there was one. */
    readonly status: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The slice of `EKSClient` used here (an `EKSClient` satisfies it: see the moto test). */
export interface EksDescribeClient {
  send(command: DescribeClusterCommand): Promise<DescribeClusterCommandOutput>;
  readonly config: { region: string | (() => Promise<string>) };
}

/**
 * Statuses whose control plane serves requests. `UPDATING` (version upgrade, logging or access
 * changes) keeps the API available; refusing it would blind the watcher during every upgrade.
 */
const USABLE_STATUSES = new Set(['ACTIVE', 'UPDATING']);

export const CLUSTER_ENDPOINT_TTL_MS = 60 * 60_000;

interface CacheEntry {
  readonly value: ClusterEndpoint;
  readonly expiresAt: number;
}
/** Per-container cache: key `<region>/<cluster>`. */
const endpointCache = new Map<string, CacheEntry>();

export interface DescribeClusterOptions {
  /** Default 1 h. */
  readonly ttlMs?: number;
  /** Injectable clock, epoch ms (tests). */
  readonly now?: () => number;
}

async function regionOf(client: EksDescribeClient): Promise<string> {
  const { region } = client.config;
  return typeof region === 'string' ? region : region();
}

/**
 * Endpoint and CA of an EKS cluster, cached per container for `ttlMs`. Only usable answers are
 * cached; errors are typed: `EksClusterError` (not found, not ready, incomplete) or
 * `MeshCertWatchError('AWS')` for the API call itself (access denied, throttling...).
 */
export async function describeClusterEndpoint(
  client: EksDescribeClient,
  name: string,
  options: DescribeClusterOptions = {},
): Promise<ClusterEndpoint> {
  if (name.trim() === '') throw new ConfigError('clusterName', 'must not be empty');
  const now = options.now ?? Date.now;
  const key = `${await regionOf(client)}/${name}`;
  const cached = endpointCache.get(key);
  if (cached && cached.expiresAt > now()) return cached.value;
  endpointCache.delete(key);

  let output: DescribeClusterCommandOutput;
  try {
    output = await client.send(new DescribeClusterCommand({ name }));
  } catch (cause) {
    if ((cause as { name?: unknown } | null)?.name === 'ResourceNotFoundException') {
      throw new EksClusterError(name, 'not-found', undefined, `EKS cluster ${name} not found`, { cause });
    }
    throw new MeshCertWatchError('AWS', `DescribeCluster ${name} failed`, { cause });
  }
  const cluster = output.cluster;
  const status = cluster?.status;
  if (!cluster || !status || !USABLE_STATUSES.has(status)) {
    throw new EksClusterError(name, 'not-ready', status, `EKS cluster ${name} is ${status ?? 'in an unknown state'}, not ACTIVE`);
  }
  const endpoint = cluster.endpoint;
  const certificateAuthorityData = cluster.certificateAuthority?.data;
  if (!endpoint || !certificateAuthorityData) {
    const missing = [!endpoint && 'endpoint', !certificateAuthorityData && 'certificate authority'].filter(Boolean).join(' and ');
    throw new EksClusterError(name, 'no-endpoint', status, `EKS cluster ${name} has no ${missing}`);
  }
  const value: ClusterEndpoint = { endpoint, certificateAuthorityData };
  endpointCache.set(key, { value, expiresAt: now() + (options.ttlMs ?? CLUSTER_ENDPOINT_TTL_MS) });
  return value;
}

/** Drop cached endpoints (all, or one `region`/`name`), e.g. after TLS or DNS failures. */
export function forgetClusterEndpoint(region?: string, name?: string): void {
  if (region === undefined || name === undefined) endpointCache.clear();
  else endpointCache.delete(`${region}/${name}`);
}

type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/** client-node `authProvider.name` that marks the user whose token comes from the provider. */
export const EKS_AUTH_PROVIDER = 'mesh-cert-watch-eks-token';

/**
 * Sets `Authorization: Bearer <fresh token>` on every request (REST via
 * `applySecurityAuthentication` and exec/WebSocket via `applyToHTTPSOptions`, both of which call
 * `applyAuthorizationHeader`).
 */
class EksTokenAuthenticator implements Authenticator {
  constructor(private readonly tokens: EksTokenProvider) {}

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: unknown } | undefined)?.name === EKS_AUTH_PROVIDER;
  }

  async applyAuthentication(_user: User, opts: Parameters<Authenticator['applyAuthentication']>[1]): Promise<void> {
    const { token } = await this.tokens.getToken();
    const headers = (opts.headers ??= {}) as Record<string, string>;
    headers.Authorization = `Bearer ${token}`;
  }
}

export interface KubeConfigForEksOptions {
  readonly name: string;
  readonly endpoint: string;
  /** Base64 CA bundle (DescribeCluster `certificateAuthority.data`). */
  readonly caData: string;
  readonly tokenProvider: EksTokenProvider;
}

/**
 * A KubeConfig for one EKS cluster: TLS verified against the cluster CA, no static token, the
 * bearer token fetched from `tokenProvider` for each request (cached there, re-signed before it
 * expires). Context, cluster and user are all named after the cluster.
 */
export function kubeConfigForEks(options: KubeConfigForEksOptions): KubeConfig {
  const { name, endpoint, caData, tokenProvider } = options;
  if (!endpoint.startsWith('https://')) {
    throw new ConfigError('endpoint', 'EKS endpoints must be https URLs');
  }
  const kc = new KubeConfig();
  kc.addAuthenticator(new EksTokenAuthenticator(tokenProvider));
  kc.loadFromOptions({
    clusters: [{ name, server: endpoint.replace(/\/$/, ''), caData, skipTLSVerify: false }],
    // No `token` field: client-node would let a static token override the authenticator.
    users: [{ name, authProvider: { name: EKS_AUTH_PROVIDER, config: {} } }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  return kc;
}
