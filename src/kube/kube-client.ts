/**
 * The one place the engine talks to the Kubernetes API: typed API clients from a KubeConfig,
 * retries for transient answers (429 with Retry-After, 5xx, connection resets), a timeout on
 * every request, and the mapping of client-node errors to our typed errors.
 *
 * Timeouts: each request (list, get, patch, delete; the exec upgrade in exec.ts) gets
 * `min(requestTimeoutMs, time left before the deadline)` and is aborted when it runs out, so a
 * request the API server never answers cannot hold a sweep past its deadline. The deadline
 * (`withDeadline`) is derived from the sweep's (sampler, CLI) or the invocation's (remediator).
 * A server's Retry-After is honoured in full as long as the wait ends before the deadline.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter as pathDelimiter, join as joinPath } from 'node:path';
import {
  ApiException,
  createConfiguration,
  Exec,
  KubeConfig,
  ServerConfiguration,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { Agent as HttpsAgent } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
// Not re-exported by the package index; imported for its socket-factory hook (see execSocketFactory).
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import WebSocket from 'ws';
import { appsApi, batchApi, coreApi, customObjectApi, podListApi, type AppsApi, type BatchApi, type CoreApi, type CustomObjectApi, type PodListApi } from './kube-api.js';
import { ClusterUnreachableError, KubeApiError, MeshCertWatchError, TimeoutError, UsageError, describeError } from '../core/model/errors.js';
import { parseRetryAfter, withRetry, type RetryDecision, type RetryOptions } from '../core/model/retry.js';

export interface RetryPolicy {
  /** Total attempts per call, including the first. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 };

/** Per-request ceiling when no deadline is closer: kubectl's default `--request-timeout` is none, ours is not. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** A server's Retry-After is honoured up to this without a deadline (with one: up to the deadline). */
export const MAX_SERVER_RETRY_DELAY_MS = 60_000;

export interface KubeClientOptions {
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Each request is aborted after this long (or at the deadline, if sooner). @default 30 000 */
  readonly requestTimeoutMs?: number;
  /** No request runs past this instant; retries stop before it. */
  readonly deadline?: Date;
  /** Wall clock (epoch ms), for deadlines and Retry-After dates; injectable for tests. */
  readonly clock?: () => number;
}

/** The abort signal of the request being made in this async context (see `signalMiddleware`). */
const requestSignal = new AsyncLocalStorage<AbortSignal>();

/** Hands the current call's abort signal to client-node's fetch. */
const signalMiddleware = {
  pre: async (context: RequestContext): Promise<RequestContext> => {
    const signal = requestSignal.getStore();
    if (signal) context.setSignal(signal);
    return context;
  },
  post: async (context: ResponseContext): Promise<ResponseContext> => context,
};

function makeApi<T>(kubeConfig: KubeConfig, api: (configuration: ReturnType<typeof createConfiguration>) => T): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new UsageError('--kubeconfig', 'the kubeconfig has no current context/cluster; pass --context');
  return api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      promiseMiddleware: [signalMiddleware],
    }),
  );
}

/** Kubernetes `Status` object as found in error bodies. */
interface StatusBody {
  readonly kind?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
}

export class KubeClient {
  // The operations the watcher uses, on client-node's request pipeline (see kube-api.ts).
  readonly core: CoreApi;
  readonly apps: AppsApi;
  readonly batch: BatchApi;
  readonly customObjects: CustomObjectApi;
  /** Pod lists as parsed JSON, for the sweep's pages (see kube-api.ts). */
  readonly podLists: PodListApi;
  readonly exec: Exec;
  readonly retryPolicy: RetryPolicy;
  readonly requestTimeoutMs: number;
  readonly deadline: Date | undefined;
  readonly clock: () => number;
  readonly sleep: ((ms: number) => Promise<void>) | undefined;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly options: KubeClientOptions = {},
  ) {
    this.core = makeApi(kubeConfig, coreApi);
    this.apps = makeApi(kubeConfig, appsApi);
    this.batch = makeApi(kubeConfig, batchApi);
    this.customObjects = makeApi(kubeConfig, customObjectApi);
    this.podLists = makeApi(kubeConfig, podListApi);
    this.exec = new Exec(kubeConfig, new WebSocketHandler(kubeConfig, execSocketFactory(Boolean(kubeConfig.getCurrentCluster()?.proxyUrl))));
    this.retryPolicy = options.retry ?? DEFAULT_RETRY_POLICY;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.deadline = options.deadline;
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep;
  }

  /** The same cluster and credentials, with every request ending before `deadline`. */
  withDeadline(deadline: Date | undefined): KubeClient {
    if (deadline === undefined) return this;
    const sooner = this.deadline !== undefined && this.deadline.getTime() < deadline.getTime() ? this.deadline : deadline;
    return new KubeClient(this.kubeConfig, { ...this.options, deadline: sooner });
  }

  /** Time a request may take from now: the per-request ceiling, or less before the deadline. */
  requestBudgetMs(ceilingMs: number = this.requestTimeoutMs): number {
    const left = this.deadline === undefined ? Infinity : this.deadline.getTime() - this.clock();
    return Math.min(ceilingMs, left);
  }

  /** Retry settings shared by every request kind (exec included). */
  retryOptions(): Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs' | 'maxServerDelayMs' | 'deadline' | 'clock' | 'sleep'> {
    return {
      ...this.retryPolicy,
      maxServerDelayMs: MAX_SERVER_RETRY_DELAY_MS,
      clock: this.clock,
      ...(this.deadline !== undefined ? { deadline: this.deadline.getTime() } : {}),
      ...(this.sleep ? { sleep: this.sleep } : {}),
    };
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
      return await withRetry(() => this.attempt(description, request), { ...this.retryOptions(), classify: classifyTransient });
    } catch (error) {
      throw toKubeError(error, description, this.server);
    }
  }

  /** `call` for a read whose 404 is an answer (the object is gone): undefined; any other failure stays a typed error. */
  async callOrUndefined<T>(description: string, request: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(description, request);
    } catch (error) {
      if (error instanceof KubeApiError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /** One request under its timeout; the request is aborted (not just abandoned) when it runs out. */
  private async attempt<T>(description: string, request: () => Promise<T>): Promise<T> {
    const budgetMs = this.requestBudgetMs();
    if (budgetMs <= 0) throw new TimeoutError(`${description}: not sent, the deadline has passed`);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new TimeoutError(`${description}: no answer from the Kubernetes API at ${this.server} within ${Math.round(budgetMs)} ms`));
      }, budgetMs);
    });
    try {
      return await Promise.race([requestSignal.run(controller.signal, request), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

type WsOptions = WebSocket.ClientOptions & { ca?: unknown; cert?: unknown; key?: unknown; servername?: string };

/**
 * client-node hands every exec socket raw CA/cert/key options, so each exec pays for building a
 * new TLS context (and an agent key made of the PEMs). Sharing one secure context and agent per
 * client keeps TLS sessions resumable and CPU and memory flat across thousands of execs.
 * Behind a kubeconfig `proxy-url`, client-node's own agent (a proxy agent, one per cluster and
 * user) is kept, or the exec streams would bypass the proxy that the other requests go through.
 * Auth headers are still computed per connection by client-node (tokens may refresh).
 */
function execSocketFactory(proxied: boolean): (uri: string, protocols: string[], opts: WebSocket.ClientOptions) => WebSocket {
  let shared: { agent: HttpsAgent; secureContext: SecureContext } | undefined;
  return (uri, protocols, opts) => {
    // A plain-HTTP server (client-node allows one with insecure-skip-tls-verify) has no TLS to share.
    if (proxied || !uri.startsWith('wss:')) return watchRefusal(new WebSocket(uri, protocols, opts));
    const { ca, cert, key, agent: _perCallAgent, ...rest } = opts as WsOptions;
    if (!shared) {
      const secureContext = createSecureContext({
        ...(ca ? { ca: ca as Buffer } : {}),
        ...(cert ? { cert: cert as Buffer } : {}),
        ...(key ? { key: key as Buffer } : {}),
      });
      shared = { secureContext, agent: new HttpsAgent({ secureContext, maxCachedSessions: 256, keepAlive: false }) };
    }
    return watchRefusal(new WebSocket(uri, protocols, { ...rest, agent: shared.agent, secureContext: shared.secureContext } as WebSocket.ClientOptions));
  };
}

function watchRefusal(socket: WebSocket): WebSocket {
  socket.once('unexpected-response', (request, response) => refuseUpgrade(socket, request, response));
  return socket;
}

/** A refused exec upgrade, with what the server said about retrying (429, 503 under load). */
export class UpgradeRefusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`Unexpected server response: ${statusCode}`);
  }
}

/**
 * What ws does for a refused upgrade when nobody listens for 'unexpected-response' (abort the
 * request, emit 'error', then 'close'), except that the error keeps the Retry-After header,
 * which ws would drop.
 */
function refuseUpgrade(socket: WebSocket, request: import('node:http').ClientRequest, response: import('node:http').IncomingMessage): void {
  const header = response.headers['retry-after'];
  const refusal = new UpgradeRefusal(response.statusCode ?? 0, parseRetryAfter(Array.isArray(header) ? header[0] : header, Date.now()));
  response.resume();
  request.destroy();
  process.nextTick(() => {
    socket.emit('error', refusal);
    (socket as unknown as { emitClose(): void }).emitClose();
  });
}

/** Where kubectl looks for a kubeconfig: each `KUBECONFIG` entry, else ~/.kube/config. */
export function kubeconfigCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.KUBECONFIG ?? '').split(pathDelimiter).filter((p) => p !== '');
  return fromEnv.length > 0 ? fromEnv : [joinPath(env.HOME ?? homedir(), '.kube', 'config')];
}

/** Loads a kubeconfig the way kubectl does: `--kubeconfig`, else `KUBECONFIG`, else ~/.kube/config. */
export function loadKubeConfig(options: { kubeconfig?: string; context?: string }): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) throw new UsageError('--kubeconfig', `${options.kubeconfig}: no such file`);
    try {
      kubeConfig.loadFromFile(options.kubeconfig);
    } catch (error) {
      throw new UsageError('--kubeconfig', `cannot load ${options.kubeconfig}: ${kubeconfigProblem(error)}`, { cause: error });
    }
  } else {
    const candidates = kubeconfigCandidates();
    const found = candidates.filter((path) => existsSync(path));
    // In a pod, client-node falls back to the service account, as kubectl does.
    const inCluster = process.env.KUBERNETES_SERVICE_HOST !== undefined;
    if (found.length === 0 && !inCluster) {
      throw new UsageError('--kubeconfig', `no kubeconfig found (looked at ${candidates.join(', ')}); pass --kubeconfig FILE or set KUBECONFIG`);
    }
    try {
      kubeConfig.loadFromDefault();
    } catch (error) {
      throw new UsageError('--kubeconfig', `cannot load ${found.join(', ') || 'the in-cluster configuration'}: ${kubeconfigProblem(error)}`, { cause: error });
    }
  }
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) {
      const known = kubeConfig.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new UsageError('--context', `context "${options.context}" not found in kubeconfig (known: ${known})`);
    }
    kubeConfig.setCurrentContext(options.context);
  }
  if (!kubeConfig.getCurrentCluster()) {
    const contexts = kubeConfig.getContexts().map((c) => c.name);
    throw new UsageError(
      '--context',
      contexts.length === 0 ? 'the kubeconfig defines no context' : `the kubeconfig has no current context; pass --context (one of ${contexts.join(', ')})`,
    );
  }
  return kubeConfig;
}

/** client-node's YAML and schema errors, as one line that says what is wrong. */
function kubeconfigProblem(error: unknown): string {
  const message = describeError(error);
  if (/^[\s\S]*is not a valid|must be|Unexpected|bad indentation|duplicated mapping key|end of the stream/i.test(message)) return `not a valid kubeconfig: ${message}`;
  return message;
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
  // A timeout is not retried: a server that did not answer within the request timeout is not
  // asked again, so a hung API server costs one timeout per request, not `attempts` of them.
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
