/**
 * A local Kubernetes API server emulator that speaks the real wire protocol: HTTPS (HTTP/2 with
 * HTTP/1.1 fallback, like kube-apiserver), bearer tokens, the real REST paths, `Status` error
 * bodies, list paging with continue tokens, the PATCH content types, and `pods/exec` over
 * WebSocket. Tests and the offline demo drive it through the real `@kubernetes/client-node`.
 *
 * It is not a controller manager: nothing reconciles. Tests script the cluster state with
 * `apply()`/`remove()` (see mesh.ts) and observe what the client did through `requests`.
 */
import { randomBytes, randomUUID, createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import { constants as http2Constants, createSecureServer, type Http2Session } from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { issueTlsServerIdentity, type TlsServerIdentity } from './pki.js';
import {
  badRequestStatus,
  conflictStatus,
  failureStatus,
  forbiddenStatus,
  genericStatus,
  discoveryDocument,
  invalidStatus,
  methodNotAllowedStatus,
  notFoundStatus,
  resourceTypeFor,
  resourceTypeForKind,
  unauthorizedStatus,
  unknownResourceStatus,
  unsupportedMediaTypeStatus,
  type KubeObject,
  type KubeStatus,
  type ResourceKind,
  type ResourceType,
} from './kube-resources.js';
import { kubeTimestamp, ObjectStore } from './kube-store.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from './kube-patch.js';
import {
  EXEC_PROTOCOLS,
  ExecServer,
  PilotAgentScript,
  rejectUpgrade,
  validateExec,
  type ExecHandler,
  type ExecProtocol,
  type ExecRecord,
  type ProxyResponse,
} from './kube-exec.js';

export type { ExecAnswer, ExecHandler, ExecProtocol, ExecRecord, ExecRequest, ExecResult, ProxyResponse } from './kube-exec.js';
export type { KubeObject, KubeStatus, ResourceKind } from './kube-resources.js';

/** Who a bearer token belongs to (what an authenticator such as EKS's would resolve). */
export interface KubeIdentity {
  readonly username: string;
  readonly groups: readonly string[];
}

/** What RBAC would be asked: `verb` on `resource[/subresource]` in API `group`. */
export interface AuthorizationRequest {
  readonly user: KubeIdentity;
  readonly verb: 'get' | 'list' | 'watch' | 'patch' | 'delete' | 'create';
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

export interface KubeApiEmulatorOptions {
  /** Bearer token accepted by the default authenticator; random when omitted. */
  readonly token?: string;
  /**
   * Replaces the static-token check: resolve a token to an identity (or `true` for a generic
   * user); `false`/`null`/`undefined` or a throw answers 401.
   */
  readonly validateToken?: (token: string) => KubeIdentity | boolean | null | undefined | Promise<KubeIdentity | boolean | null | undefined>;
  /** RBAC stand-in; `false` answers the real 403 Forbidden Status. Default: allow everything. */
  readonly authorize?: (request: AuthorizationRequest) => boolean | Promise<boolean>;
  /** Default: istio-proxy answering `pilot-agent request GET <path>` from `setProxyResponses`. */
  readonly execHandler?: ExecHandler;
  /** WebSocket subprotocols the server accepts, default v5 and v4 (client-node offers v5..v1). */
  readonly execProtocols?: readonly ExecProtocol[];
  /** Artificial delay before every exec answers. */
  readonly execLatencyMs?: number;
  /** Serve HTTP/2 (with HTTP/1.1 fallback) like kube-apiserver; default true. */
  readonly http2?: boolean;
  /** Clock for creationTimestamp/deletionTimestamp; default real time. */
  readonly clock?: () => Date;
  /** Keep the request log (default true; benchmarks may turn it off). */
  readonly recordRequests?: boolean;
}

/** One request as received (the Authorization header is never recorded). */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** Single values as strings, repeated parameters (e.g. exec `command`) as arrays. */
  readonly query: Readonly<Record<string, string | string[]>>;
  readonly contentType: string | undefined;
  readonly body: string | undefined;
  /** `2.0` for HTTP/2 (what client-node's undici negotiates by default), `1.1` otherwise and for exec upgrades. */
  readonly httpVersion: string;
  readonly at: Date;
  /** HTTP status answered (101 for an accepted exec upgrade); undefined while in flight. */
  status: number | undefined;
  username: string | undefined;
}

export interface RequestLog extends ReadonlyArray<RecordedRequest> {
  clear(): void;
}

export interface FaultSpec {
  /** Any method when omitted (exec upgrades are GET). */
  readonly method?: string;
  /** A string matches the URL path exactly; a RegExp is tested against path plus query string. */
  readonly path: string | RegExp;
  /**
   * `status` (default) answers `status` instead of serving the request; `hang` never answers
   * (until the client gives up or the emulator closes); `lose-response` serves the request (a
   * PATCH is applied) and then cuts the connection instead of answering, like a response lost
   * to a dropped connection or a load balancer timeout.
   */
  readonly effect?: 'status' | 'hang' | 'lose-response';
  /** HTTP status for the `status` effect. */
  readonly status?: number;
  /** Sent as `Retry-After` and `details.retryAfterSeconds`; 429 defaults to 1 like API Priority and Fairness. */
  readonly retryAfterSeconds?: number;
  /** How many matching requests fail; unlimited when omitted. */
  readonly times?: number;
  readonly message?: string;
}

export interface Fault {
  /** Requests answered by this fault so far. */
  readonly hits: number;
  remove(): void;
}

export interface KubeApiEmulator {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly token: string;
  readonly caCertificatePem: string;
  readonly requests: RequestLog;
  readonly execs: readonly ExecRecord[];
  /** Exec sockets currently open. */
  activeExecs(): number;
  /** Unexpected server-side errors (answered as 500); tests can assert it stays empty. */
  readonly errors: readonly unknown[];
  /** The current global resourceVersion. */
  readonly resourceVersion: string;

  kubeConfig(contextName?: string): KubeConfig;
  kubeconfigYaml(contextName?: string): string;

  /** Creates or replaces an object (deep-copied), returning the stored state. */
  apply(obj: KubeObject): KubeObject;
  remove(kind: ResourceKind, namespace: string | undefined, name: string): KubeObject | undefined;
  get(kind: ResourceKind, namespace: string | undefined, name: string): KubeObject | undefined;
  list(kind: ResourceKind, namespace?: string): KubeObject[];

  /** Scripts what `pilot-agent request GET <path>` prints in a pod's istio-proxy (replaces earlier ones). */
  setProxyResponses(namespace: string, pod: string, responses: Readonly<Record<string, ProxyResponse>>): void;
  clearProxyResponses(namespace?: string, pod?: string): void;
  /** Swaps the exec handler at runtime; `undefined` restores the pilot-agent default. */
  setExecHandler(handler: ExecHandler | undefined): void;
  /** The pilot-agent default, for custom handlers that delegate to it. */
  readonly defaultExecHandler: ExecHandler;

  injectFault(spec: FaultSpec): Fault;
  clearFaults(): void;
  /** Outstanding continue tokens answer 410 Expired, like after an etcd compaction. */
  expireContinueTokens(): void;

  /** Closes every socket (hanging execs included) and stops listening. */
  close(): Promise<void>;
}

const ADMIN: KubeIdentity = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const VALIDATED_USER: KubeIdentity = { username: 'emulator-user', groups: ['system:authenticated'] };
const MAX_BODY_BYTES = 3 * 1024 * 1024;

const BUILTIN_PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
  'application/strategic-merge-patch+json',
] as const;
const CUSTOM_PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'] as const;

let sharedIdentity: Promise<TlsServerIdentity> | undefined;
/** One TLS identity per process: emulators start fast and execs never trigger key generation. */
function tlsIdentity(): Promise<TlsServerIdentity> {
  sharedIdentity ??= issueTlsServerIdentity();
  return sharedIdentity;
}

interface Route {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

/** Maps `/api/v1/...` and `/apis/<group>/<version>/...` paths onto a served resource. */
function parseRoute(pathname: string): Route | undefined {
  let segments: string[];
  try {
    segments = pathname.split('/').filter((s) => s.length > 0).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    [group, version, rest] = ['', segments[1]!, segments.slice(2)];
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    [group, version, rest] = [segments[1]!, segments[2]!, segments.slice(3)];
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (plural === undefined || extra.length > 0) return undefined;
  const type = resourceTypeFor(group, version, plural);
  if (type === undefined) return undefined;
  if (!type.namespaced && namespace !== undefined) return undefined;
  if (type.namespaced && name !== undefined && namespace === undefined) return undefined;
  return { type, namespace, name, subresource };
}

interface Reply {
  readonly code: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

function statusReply(status: KubeStatus, headers?: Record<string, string>): Reply {
  return { code: status.code, body: JSON.stringify(status), headers };
}

function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  return query;
}

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function sameToken(a: string, b: string): boolean {
  // Compare digests: constant time regardless of where (or whether) the lengths differ.
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Ends a response without answering: an HTTP/2 stream is reset, an HTTP/1.1 socket destroyed. */
function cutResponse(res: ResponseSink): void {
  const { stream, socket } = res as unknown as { stream?: { close(code?: number): void; destroyed?: boolean }; socket?: { destroy(): void } | null };
  if (stream) {
    if (!stream.destroyed) stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
  } else socket?.destroy();
}

/** The minimal response surface shared by HTTP/1.1 and HTTP/2 compatibility responses. */
interface ResponseSink {
  writeHead(code: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

interface ActiveFault {
  readonly spec: FaultSpec;
  remaining: number;
  hits: number;
}

type Preflight =
  | { readonly reply: Reply }
  | { readonly hang: true }
  | { readonly identity: KubeIdentity; readonly route: Route | 'version' | 'discovery'; readonly loseResponse?: boolean };

class Emulator implements KubeApiEmulator {
  readonly requests: RequestLog;
  readonly errors: unknown[] = [];
  readonly url: string;
  readonly defaultExecHandler: ExecHandler;
  private readonly store: ObjectStore;
  private readonly exec: ExecServer;
  private readonly pilotAgent = new PilotAgentScript();
  private execHandler: ExecHandler;
  private faults: ActiveFault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<Http2Session>();
  /** Requests held by a `hang` fault: destroyed on close. */
  private readonly hanging = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private readonly clock: () => Date;

  constructor(
    private readonly server: ReturnType<typeof createHttpsServer> | ReturnType<typeof createSecureServer>,
    readonly token: string,
    readonly caCertificatePem: string,
    private readonly options: KubeApiEmulatorOptions,
  ) {
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.clock = options.clock ?? ((): Date => new Date());
    this.store = new ObjectStore(this.clock, randomUUID);
    this.defaultExecHandler = this.pilotAgent.handle;
    this.execHandler = options.execHandler ?? this.defaultExecHandler;
    this.exec = new ExecServer({
      protocols: options.execProtocols ?? EXEC_PROTOCOLS,
      latencyMs: options.execLatencyMs ?? 0,
      handler: () => this.execHandler,
      onError: (error) => this.errors.push(error),
    });
    const log: RecordedRequest[] = [];
    Object.defineProperty(log, 'clear', { value: () => void (log.length = 0), enumerable: false });
    this.requests = log as unknown as RequestLog;

    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    server.on('request', (req: IncomingMessage, res: ResponseSink) => void this.onRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
  }

  get execs(): readonly ExecRecord[] {
    return this.exec.records;
  }

  get resourceVersion(): string {
    return this.store.resourceVersion;
  }

  activeExecs(): number {
    return this.exec.active;
  }

  kubeConfig(contextName = 'emulator'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: contextName, server: this.url, caData: Buffer.from(this.caCertificatePem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: contextName, token: this.token }],
      contexts: [{ name: contextName, cluster: contextName, user: contextName }],
      currentContext: contextName,
    });
    return kc;
  }

  kubeconfigYaml(contextName = 'emulator'): string {
    const q = (s: string): string => JSON.stringify(s); // JSON strings are valid YAML scalars
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${q(contextName)}`,
      '  cluster:',
      `    server: ${q(this.url)}`,
      `    certificate-authority-data: ${q(Buffer.from(this.caCertificatePem).toString('base64'))}`,
      'users:',
      `- name: ${q(contextName)}`,
      '  user:',
      `    token: ${q(this.token)}`,
      'contexts:',
      `- name: ${q(contextName)}`,
      '  context:',
      `    cluster: ${q(contextName)}`,
      `    user: ${q(contextName)}`,
      `current-context: ${q(contextName)}`,
      '',
    ].join('\n');
  }

  apply(obj: KubeObject): KubeObject {
    return structuredClone(this.store.apply(obj));
  }

  remove(kind: ResourceKind, namespace: string | undefined, name: string): KubeObject | undefined {
    const removed = this.store.remove(this.typeOf(kind), namespace, name);
    return removed === undefined ? undefined : structuredClone(removed);
  }

  get(kind: ResourceKind, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.store.find(this.typeOf(kind), namespace, name);
    return found === undefined ? undefined : structuredClone(found);
  }

  list(kind: ResourceKind, namespace?: string): KubeObject[] {
    return this.store.items(this.typeOf(kind), namespace).map((o) => structuredClone(o));
  }

  setProxyResponses(namespace: string, pod: string, responses: Readonly<Record<string, ProxyResponse>>): void {
    this.pilotAgent.set(namespace, pod, responses);
  }

  clearProxyResponses(namespace?: string, pod?: string): void {
    this.pilotAgent.clear(namespace, pod);
  }

  setExecHandler(handler: ExecHandler | undefined): void {
    this.execHandler = handler ?? this.defaultExecHandler;
  }

  injectFault(spec: FaultSpec): Fault {
    const fault: ActiveFault = { spec, remaining: spec.times ?? Infinity, hits: 0 };
    this.faults.push(fault);
    return {
      get hits() {
        return fault.hits;
      },
      remove: () => {
        this.faults = this.faults.filter((f) => f !== fault);
      },
    };
  }

  clearFaults(): void {
    this.faults = [];
  }

  expireContinueTokens(): void {
    this.store.expireSnapshots();
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.exec.closeAll();
      for (const abort of this.hanging) abort();
      this.hanging.clear();
      this.server.close(() => resolve());
      for (const session of this.sessions) session.destroy();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private typeOf(kind: ResourceKind): ResourceType {
    const type = resourceTypeForKind(kind);
    if (type === undefined) throw new Error(`kind ${kind} is not served by the emulator`);
    return type;
  }

  private record(req: IncomingMessage, method: string, url: URL, body: string | undefined): RecordedRequest {
    const entry: RecordedRequest = {
      method,
      path: url.pathname,
      query: queryRecord(url.searchParams),
      contentType: req.headers['content-type'],
      body,
      httpVersion: req.httpVersion,
      at: new Date(),
      status: undefined,
      username: undefined,
    };
    if (this.options.recordRequests !== false) (this.requests as unknown as RecordedRequest[]).push(entry);
    return entry;
  }

  private async onRequest(req: IncomingMessage, res: ResponseSink): Promise<void> {
    let reply: Reply | 'hang' | 'lose';
    let entry: RecordedRequest | undefined;
    try {
      const url = new URL(req.url ?? '/', 'https://emulator.invalid');
      const method = (req.method ?? 'GET').toUpperCase();
      const body = await readBody(req);
      entry = this.record(req, method, url, body ?? undefined);
      reply =
        body === null
          ? statusReply(failureStatus(413, 'RequestEntityTooLarge', 'Request entity too large'))
          : await this.serve(method, url, req, body, entry);
    } catch (error) {
      this.errors.push(error);
      reply = statusReply(genericStatus(500, `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`));
    }
    if (reply === 'hang' || reply === 'lose') {
      const cut = (): void => cutResponse(res);
      if (reply === 'lose') cut();
      else {
        this.hanging.add(cut);
        (req as unknown as { once(event: 'close', listener: () => void): void }).once('close', () => this.hanging.delete(cut));
      }
      return;
    }
    if (entry !== undefined) entry.status = reply.code;
    res.writeHead(reply.code, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body);
  }

  private async serve(method: string, url: URL, req: IncomingMessage, body: string | undefined, entry: RecordedRequest): Promise<Reply | 'hang' | 'lose'> {
    const pre = await this.preflight(method, url, req.headers.authorization, entry);
    if ('reply' in pre) return pre.reply;
    if ('hang' in pre) return 'hang';
    const { route } = pre;
    if (route === 'version') return { code: 200, body: VERSION_BODY };
    if (route === 'discovery') return { code: 200, body: JSON.stringify(discoveryDocument(url.pathname)) };
    if (route.subresource !== undefined) {
      return route.subresource === 'exec' ? statusReply(badRequestStatus('Upgrade request required')) : statusReply(unknownResourceStatus());
    }
    const served = ((): Reply => {
      switch (method) {
        case 'GET':
          return route.name === undefined ? this.listObjects(route, url.searchParams) : this.getObject(route);
        case 'PATCH':
          return this.patchObject(route, req.headers['content-type'], body ?? '', url.searchParams);
        case 'DELETE':
          return this.deleteObject(route);
        default:
          return statusReply(methodNotAllowedStatus());
      }
    })();
    if (pre.loseResponse) {
      entry.status = served.code;
      return 'lose';
    }
    return served;
  }

  /** Authentication, injected faults, routing and authorization, in kube-apiserver's order. */
  private async preflight(method: string, url: URL, authorization: string | undefined, entry: RecordedRequest): Promise<Preflight> {
    const identity = await this.authenticate(authorization);
    if (identity === undefined) return { reply: statusReply(unauthorizedStatus()) };
    entry.username = identity.username;

    const route =
      url.pathname === '/version' || url.pathname === '/version/'
        ? 'version'
        : method === 'GET' && discoveryDocument(url.pathname) !== null
          ? 'discovery'
          : parseRoute(url.pathname);
    const fault = this.takeFault(method, url);
    const effect = fault?.spec.effect ?? 'status';
    if (fault !== undefined && effect === 'hang') return { hang: true };
    if (fault !== undefined && effect === 'status') return { reply: this.faultReply(fault, route === 'version' || route === 'discovery' ? undefined : route, method, identity) };
    const loseResponse = fault !== undefined && effect === 'lose-response';
    if (route === undefined) return { reply: statusReply(unknownResourceStatus()) };
    if (route === 'version' || route === 'discovery') return { identity, route, loseResponse };

    const verb = verbOf(method, route, url.searchParams);
    if (verb !== undefined && this.options.authorize !== undefined) {
      const allowed = await this.options.authorize({
        user: identity,
        verb,
        group: route.type.group,
        resource: route.type.plural,
        ...(route.subresource === undefined ? {} : { subresource: route.subresource }),
        ...(route.namespace === undefined ? {} : { namespace: route.namespace }),
        ...(route.name === undefined ? {} : { name: route.name }),
      });
      if (!allowed) {
        return { reply: statusReply(forbiddenStatus({ ...route, verb, username: identity.username })) };
      }
    }
    return { identity, route, loseResponse };
  }

  private async authenticate(authorization: string | undefined): Promise<KubeIdentity | undefined> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const presented = match[1]!;
    if (this.options.validateToken === undefined) return sameToken(presented, this.token) ? ADMIN : undefined;
    try {
      const result = await this.options.validateToken(presented);
      if (result === true) return VALIDATED_USER;
      return isObject(result) ? (result as unknown as KubeIdentity) : undefined;
    } catch {
      return undefined;
    }
  }

  private takeFault(method: string, url: URL): ActiveFault | undefined {
    const target = `${url.pathname}${url.search}`;
    const fault = this.faults.find(
      ({ spec }) =>
        (spec.method === undefined || spec.method.toUpperCase() === method) &&
        (typeof spec.path === 'string' ? spec.path === url.pathname : spec.path.test(target)),
    );
    if (fault === undefined) return undefined;
    fault.hits += 1;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  private faultReply(fault: ActiveFault, route: Route | undefined, method: string, identity: KubeIdentity): Reply {
    const spec = { ...fault.spec, status: fault.spec.status ?? 500 };
    const retryAfter = spec.retryAfterSeconds ?? (spec.status === 429 ? 1 : undefined);
    const headers = retryAfter === undefined ? undefined : { 'retry-after': String(retryAfter) };
    if (spec.message === undefined && route !== undefined) {
      if (spec.status === 403) {
        const verb = verbOf(method, route, new URLSearchParams()) ?? 'get';
        return statusReply(forbiddenStatus({ ...route, verb, username: identity.username }), headers);
      }
      if (spec.status === 404 && route.name !== undefined) return statusReply(notFoundStatus(route.type, route.name), headers);
    }
    return statusReply(genericStatus(spec.status, spec.message, retryAfter), headers);
  }

  private getObject(route: Route & { name?: string }): Reply {
    const found = this.store.find(route.type, route.namespace, route.name!);
    return found === undefined ? statusReply(notFoundStatus(route.type, route.name!)) : { code: 200, body: this.store.json(found) };
  }

  private listObjects(route: Route, params: URLSearchParams): Reply {
    if (params.get('watch') === 'true' || params.get('watch') === '1') {
      return statusReply(badRequestStatus('watch is not served by the emulator'));
    }
    const limit = Number(params.get('limit') ?? '');
    const result = this.store.list(route.type, {
      namespace: route.namespace,
      labelSelector: params.get('labelSelector') ?? undefined,
      fieldSelector: params.get('fieldSelector') ?? undefined,
      limit: Number.isInteger(limit) && limit > 0 ? limit : undefined,
      continueToken: params.get('continue') ?? undefined,
    });
    return result.ok ? { code: 200, body: result.json } : statusReply(result.status);
  }

  private patchObject(route: Route, contentType: string | undefined, body: string, params: URLSearchParams): Reply {
    const { type } = route;
    const accepted: readonly string[] = type.custom ? CUSTOM_PATCH_TYPES : BUILTIN_PATCH_TYPES;
    const mediaType = mediaTypeOf(contentType);
    if (!accepted.includes(mediaType)) return statusReply(unsupportedMediaTypeStatus(accepted));
    const existing = this.store.find(type, route.namespace, route.name!);
    if (existing === undefined) return statusReply(notFoundStatus(type, route.name!));

    let patch: unknown;
    try {
      patch = JSON.parse(body);
    } catch (error) {
      if (mediaType === 'application/apply-patch+yaml') {
        return statusReply(unsupportedMediaTypeStatus(accepted.filter((t) => t !== mediaType)));
      }
      return statusReply(badRequestStatus(`error decoding patch: ${(error as Error).message}`));
    }

    let patched: unknown;
    try {
      switch (mediaType) {
        case 'application/json-patch+json':
          if (!Array.isArray(patch)) return statusReply(badRequestStatus('json: cannot unmarshal object into Go value of type jsonpatch.Patch'));
          patched = applyJsonPatch(existing, patch);
          break;
        case 'application/merge-patch+json':
          patched = applyMergePatch(existing, patch);
          break;
        case 'application/strategic-merge-patch+json':
          patched = applyStrategicMergePatch(existing, patch);
          break;
        default:
          // Server-side apply, reduced to a merge of the applied configuration (JSON form only).
          if (!params.get('fieldManager')) {
            return statusReply(invalidStatus('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'));
          }
          patched = applyMergePatch(existing, patch);
      }
    } catch (error) {
      if (error instanceof PatchError) return statusReply(invalidStatus(error.message));
      throw error;
    }
    if (!isObject(patched) || !isObject(patched.metadata)) return statusReply(invalidStatus('metadata: Required value'));
    const next = patched as unknown as KubeObject;
    const precondition = next.metadata.resourceVersion;
    if (precondition !== undefined && precondition !== existing.metadata.resourceVersion) {
      return statusReply(conflictStatus(type, route.name!));
    }
    if (params.get('dryRun') === 'All') return { code: 200, body: JSON.stringify(next) };
    return { code: 200, body: this.store.json(this.store.update(type, existing, next)) };
  }

  private deleteObject(route: Route): Reply {
    if (route.name === undefined) return statusReply(methodNotAllowedStatus());
    const removed = this.store.remove(route.type, route.namespace, route.name);
    if (removed === undefined) return statusReply(notFoundStatus(route.type, route.name));
    const last = { ...removed, metadata: { ...removed.metadata, deletionTimestamp: kubeTimestamp(this.clock()) } };
    return { code: 200, body: JSON.stringify(last) };
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined); // a client vanishing mid-handshake is not a server error
    let entry: RecordedRequest | undefined;
    try {
      const url = new URL(req.url ?? '/', 'https://emulator.invalid');
      const method = (req.method ?? 'GET').toUpperCase();
      entry = this.record(req, method, url, undefined);
      const reject = (status: KubeStatus, headers?: Readonly<Record<string, string>>): void => {
        entry!.status = status.code;
        rejectUpgrade(socket, status, headers);
      };
      const pre = await this.preflight(method, url, req.headers.authorization, entry);
      if ('reply' in pre) {
        reject(JSON.parse(pre.reply.body) as KubeStatus, pre.reply.headers);
        return;
      }
      if ('hang' in pre) {
        const cut = (): void => void socket.destroy();
        this.hanging.add(cut);
        socket.once('close', () => this.hanging.delete(cut));
        return;
      }
      if (pre.loseResponse) {
        socket.destroy();
        return;
      }
      const { route } = pre;
      if (route === 'version' || route === 'discovery' || route.type.kind !== 'Pod' || route.subresource !== 'exec' || route.name === undefined) {
        reject(badRequestStatus('the emulator serves WebSocket upgrades for pods/exec only'));
        return;
      }
      const pod = this.store.find(route.type, route.namespace, route.name);
      if (pod === undefined) {
        reject(notFoundStatus(route.type, route.name));
        return;
      }
      const target = validateExec(url.searchParams, pod);
      if ('code' in target) {
        reject(target);
        return;
      }
      entry.status = 101;
      this.exec.upgrade(
        req,
        socket,
        head,
        { namespace: route.namespace!, pod: route.name, container: target.container, command: target.command, podObject: pod },
        target,
      );
    } catch (error) {
      this.errors.push(error);
      if (entry !== undefined) entry.status = 500;
      rejectUpgrade(socket, genericStatus(500, `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`));
    }
  }
}

const VERSION_BODY = JSON.stringify({
  major: '1',
  minor: '32',
  emulationMajor: '1',
  emulationMinor: '32',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '31',
  gitVersion: 'v1.32.0-mesh-cert-watch-emulator',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
});

/** The RBAC verb of a request; exec upgrades need `create` on pods/exec (Kubernetes >= 1.31). */
function verbOf(method: string, route: Route, params: URLSearchParams): AuthorizationRequest['verb'] | undefined {
  if (route.subresource === 'exec') return 'create';
  switch (method) {
    case 'GET':
      if (route.name !== undefined) return 'get';
      return params.get('watch') === 'true' ? 'watch' : 'list';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    case 'POST':
      return 'create';
    default:
      return undefined;
  }
}

/** The request body as text; null when it exceeds the API server's 3 MiB limit. */
async function readBody(req: IncomingMessage): Promise<string | undefined | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return size === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

export async function startKubeApiEmulator(options: KubeApiEmulatorOptions = {}): Promise<KubeApiEmulator> {
  const identity = await tlsIdentity();
  const tls = { key: identity.privateKeyPem, cert: identity.certificatePem };
  const server = options.http2 === false ? createHttpsServer(tls) : createSecureServer({ ...tls, allowHTTP1: true });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new Emulator(server, options.token ?? randomBytes(24).toString('base64url'), identity.caCertificatePem, options);
}
