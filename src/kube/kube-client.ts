/**
 * The one place the engine talks to the Kubernetes API: typed API clients from a KubeConfig,
 * retries for transient answers (429 with Retry-After, 5xx, connection resets) and the
 * mapping of client-node errors to our typed errors.
 */
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Exec,
  KubeConfig,
} from '@kubernetes/client-node';
import { Agent as HttpsAgent } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
// Not re-exported by the package index; imported for its socket-factory hook (see execSocketFactory).
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import WebSocket from 'ws';
import { ClusterUnreachableError, KubeApiError, MeshCertWatchError, UsageError } from '../core/errors.js';
import { parseRetryAfter, withRetry, type RetryDecision } from '../core/retry.js';

export interface RetryPolicy {
  /** Total attempts per call, including the first. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 };

export interface KubeClientOptions {
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Kubernetes `Status` object as found in error bodies. */
interface StatusBody {
  readonly kind?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
}

export class KubeClient {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly customObjects: CustomObjectsApi;
  readonly exec: Exec;
  readonly retryPolicy: RetryPolicy;
  private readonly sleep: ((ms: number) => Promise<void>) | undefined;

  constructor(
    readonly kubeConfig: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
    this.exec = new Exec(kubeConfig, new WebSocketHandler(kubeConfig, execSocketFactory()));
    this.retryPolicy = options.retry ?? DEFAULT_RETRY_POLICY;
    this.sleep = options.sleep;
  }

  /** The API server URL, for reports and error messages. */
  get server(): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? '<unknown>';
  }

  /**
   * Runs one API call with retries on transient failures; the final error is a
   * `KubeApiError` (the server answered) or `ClusterUnreachableError` (it did not).
   */
  async call<T>(description: string, request: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(request, {
        ...this.retryPolicy,
        classify: classifyTransient,
        ...(this.sleep ? { sleep: this.sleep } : {}),
      });
    } catch (error) {
      throw toKubeError(error, description, this.server);
    }
  }
}

type WsOptions = WebSocket.ClientOptions & { ca?: unknown; cert?: unknown; key?: unknown; servername?: string };

/**
 * client-node gives every exec socket a fresh https.Agent with raw CA/cert/key options, so each
 * exec pays for a new TLS context and a full handshake. Sharing one agent with one secure context
 * per client keeps TLS sessions resumable and CPU and memory flat across thousands of execs.
 * Auth headers are still computed per connection by client-node (tokens may refresh).
 */
function execSocketFactory(): (uri: string, protocols: string[], opts: WebSocket.ClientOptions) => WebSocket {
  let shared: { agent: HttpsAgent; secureContext: SecureContext } | undefined;
  return (uri, protocols, opts) => {
    const { ca, cert, key, agent: _perCallAgent, ...rest } = opts as WsOptions;
    if (!shared) {
      const secureContext = createSecureContext({
        ...(ca ? { ca: ca as Buffer } : {}),
        ...(cert ? { cert: cert as Buffer } : {}),
        ...(key ? { key: key as Buffer } : {}),
      });
      shared = { secureContext, agent: new HttpsAgent({ secureContext, maxCachedSessions: 256, keepAlive: false }) };
    }
    return new WebSocket(uri, protocols, { ...rest, agent: shared.agent, secureContext: shared.secureContext } as WebSocket.ClientOptions);
  };
}

/** Loads a kubeconfig the way kubectl does: `--kubeconfig`, else `KUBECONFIG`, else ~/.kube/config. */
export function loadKubeConfig(options: { kubeconfig?: string; context?: string }): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new UsageError('--kubeconfig', `cannot load kubeconfig ${options.kubeconfig ?? '(KUBECONFIG or ~/.kube/config)'}`, { cause: error });
  }
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) {
      const known = kubeConfig.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new UsageError('--context', `context "${options.context}" not found in kubeconfig (known: ${known})`);
    }
    kubeConfig.setCurrentContext(options.context);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new UsageError('--kubeconfig', 'the kubeconfig has no current context/cluster; pass --context');
  }
  return kubeConfig;
}

export function classifyTransient(error: unknown): RetryDecision {
  if (error instanceof ApiException) {
    const code = error.code;
    if (code === 429 || code === 500 || code === 502 || code === 503 || code === 504) {
      const retryAfter = retryAfterMs(error.headers);
      return retryAfter === undefined ? { retry: true } : { retry: true, delayMs: retryAfter };
    }
    return { retry: false };
  }
  if (error instanceof MeshCertWatchError) return { retry: false };
  // Network-level failures (reset, refused) may be a blip: a few retries, then unreachable.
  return { retry: isNetworkError(error) };
}

export function retryAfterMs(headers: Record<string, string> | undefined): number | undefined {
  return parseRetryAfter(headers?.['retry-after'] ?? headers?.['Retry-After'], Date.now());
}

function isNetworkError(error: unknown): boolean {
  const codes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && codes.has(code)) return true;
  }
  return false;
}

function parseStatus(body: unknown): StatusBody | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' ? (value as StatusBody) : undefined;
}

/** Maps anything a client-node call throws to a typed error, keeping the original as `cause`. */
export function toKubeError(error: unknown, description: string, server: string): MeshCertWatchError {
  if (error instanceof MeshCertWatchError) return error;
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    const detail = status?.message ?? (error.code === 401 ? 'Unauthorized' : `HTTP ${error.code}`);
    return new KubeApiError(`${description}: ${detail} (HTTP ${error.code}${status?.reason ? `, ${status.reason}` : ''})`, error.code, status?.reason, { cause: error });
  }
  const reason = error instanceof Error ? (causeMessage(error) ?? error.message) : String(error);
  return new ClusterUnreachableError(`${description}: cannot reach the Kubernetes API at ${server}: ${reason}`, { cause: error });
}

function causeMessage(error: Error): string | undefined {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) return causeMessage(cause) ?? cause.message;
  return undefined;
}
