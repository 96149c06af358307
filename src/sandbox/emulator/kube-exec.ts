/**
 * `pods/exec` over WebSocket, as kube-apiserver serves it to client-node: subprotocol
 * negotiation (`v5.channel.k8s.io`, `v4.channel.k8s.io`), the pre-upgrade checks that answer
 * plain `Status` responses, then binary frames prefixed by a channel byte (1 stdout, 2 stderr,
 * 3 the v4 status object) and a normal close.
 *
 * The hot path stays cheap for benchmarks with thousands of execs: frames for Buffer payloads
 * are built once and reused, the status frames are constants, and nothing is generated per exec.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { badRequestStatus, type KubeObject, type KubeStatus } from './kube-resources.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number];

const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
/** kube-apiserver streams container output in 32 KiB reads; 16 KiB keeps several frames per answer. */
const CHUNK_BYTES = 16 * 1024;

export interface ExecRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
  readonly podObject: KubeObject;
  readonly protocol: ExecProtocol;
}

export interface ExecResult {
  readonly stdout?: string | Buffer;
  readonly stderr?: string | Buffer;
  /** Default 0. */
  readonly exitCode?: number;
  /** Extra delay before answering, on top of the emulator's `execLatencyMs`. */
  readonly delayMs?: number;
  /**
   * The container runtime could not run the command at all (e.g. executable not found):
   * the status is an `InternalError` instead of an exit code, like a real cluster reports it.
   */
  readonly runtimeError?: string;
}

/**
 * `'hang'` never answers: the socket stays open until the client or the server closes it.
 * `'drop'` sends part of the output, then the connection is cut without a status (a node or a
 * load balancer going away mid-exec).
 */
export type ExecAnswer = ExecResult | 'hang' | 'drop';
export type ExecHandler = (request: ExecRequest) => ExecAnswer | Promise<ExecAnswer>;

export type ExecOutcome = 'completed' | 'client-closed' | 'server-closed';

/** One exec as the emulator saw it; `done` settles when its socket is gone. */
export interface ExecRecord {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
  readonly protocol: ExecProtocol;
  readonly startedAt: Date;
  readonly outcome: ExecOutcome | 'running';
  readonly done: Promise<ExecOutcome>;
}

export interface ExecTarget {
  readonly container: string;
  readonly command: readonly string[];
  readonly stdout: boolean;
  readonly stderr: boolean;
}

function containerNames(list: unknown): string[] {
  return Array.isArray(list) ? list.map((c) => String((c as { name?: unknown }).name)) : [];
}

/** kube-apiserver's checks before it upgrades an exec request (messages verbatim). */
export function validateExec(query: URLSearchParams, pod: KubeObject): ExecTarget | KubeStatus {
  const name = pod.metadata.name;
  const spec = pod.spec ?? {};
  const containers = containerNames(spec.containers);
  const initContainers = containerNames(spec.initContainers);
  let container = query.get('container') ?? '';
  if (container === '') {
    if (containers.length === 1) {
      container = containers[0]!;
    } else if (containers.length === 0) {
      return badRequestStatus(`a container name must be specified for pod ${name}`);
    } else {
      const init = initContainers.length > 0 ? ` or one of the init containers: [${initContainers.join(' ')}]` : '';
      return badRequestStatus(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${init}`);
    }
  } else if (!containers.includes(container) && !initContainers.includes(container)) {
    return badRequestStatus(`container ${container} is not valid for pod ${name}`);
  }
  const stdout = query.get('stdout') === 'true';
  const stderr = query.get('stderr') === 'true';
  if (!stdout && !stderr && query.get('stdin') !== 'true') {
    return badRequestStatus('you must specify at least 1 of stdin, stdout, stderr');
  }
  const command = query.getAll('command');
  if (command.length === 0) return badRequestStatus('you must specify at least one command for the container');
  if (typeof spec.nodeName !== 'string' || spec.nodeName === '') {
    return badRequestStatus(`pod ${name} does not have a host assigned`);
  }
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    return badRequestStatus(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  if (phase !== 'Running') {
    return badRequestStatus(`unable to upgrade connection: container not found ("${container}")`);
  }
  return { container, command, stdout, stderr };
}

/** Answers an upgrade request with a plain HTTP response (no WebSocket), then drops the socket. */
export function rejectUpgrade(socket: Duplex, status: KubeStatus, headers: Readonly<Record<string, string>> = {}): void {
  const body = JSON.stringify(status);
  const lines = [
    `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    'Connection: close',
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function frame(channel: number, payload: Buffer, start = 0, end = payload.length): Buffer {
  const out = Buffer.allocUnsafe(end - start + 1);
  out[0] = channel;
  payload.copy(out, 1, start, end);
  return out;
}

const EMPTY_FRAMES = [0, 1, 2, 3].map((ch) => Buffer.from([ch]));
const SUCCESS_FRAME = frame(STATUS, Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' })));

/** The v4 status kube-apiserver sends for a command that exited non-zero (kubelet's wording). */
export function nonZeroExitStatus(command: readonly string[], exitCode: number): Record<string, unknown> {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

function runtimeErrorStatus(message: string): Record<string, unknown> {
  const cause = `error executing command in container: ${message}`;
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${cause}`,
    reason: 'InternalError',
    details: { causes: [{ message: cause }] },
    code: 500,
  };
}

/** The record kept after an exec ends: no socket or pod object, so thousands of execs stay cheap. */
interface MutableExecRecord extends ExecRecord {
  outcome: ExecOutcome | 'running';
}

class ExecSession {
  readonly record: MutableExecRecord;
  private settle!: (outcome: ExecOutcome) => void;
  private timer: NodeJS.Timeout | undefined;
  private wake: ((open: boolean) => void) | undefined;

  constructor(
    readonly request: ExecRequest,
    readonly target: ExecTarget,
    readonly socket: WebSocket,
  ) {
    const done = new Promise<ExecOutcome>((resolve) => (this.settle = resolve));
    this.record = {
      namespace: request.namespace,
      pod: request.pod,
      container: request.container,
      command: request.command,
      protocol: request.protocol,
      startedAt: new Date(),
      outcome: 'running',
      done,
    };
  }

  get running(): boolean {
    return this.record.outcome === 'running';
  }

  /** Resolves true after `ms`, or false as soon as the socket is gone. */
  wait(ms: number): Promise<boolean> {
    if (!this.running) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake = undefined;
        resolve(true);
      }, ms);
    });
  }

  finish(outcome: ExecOutcome): void {
    if (!this.running) return;
    this.record.outcome = outcome;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.(false);
    this.wake = undefined;
    this.settle(outcome);
  }
}

export interface ExecServerOptions {
  readonly protocols: readonly ExecProtocol[];
  readonly latencyMs: number;
  readonly handler: () => ExecHandler;
  readonly onError: (error: unknown) => void;
}

export class ExecServer {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<ExecSession>();
  /** Frames of Buffer payloads, reused across execs (payload buffers are treated as immutable). */
  private readonly frameCache = [new WeakMap<Buffer, Buffer[]>(), new WeakMap<Buffer, Buffer[]>()];
  readonly records: ExecRecord[] = [];

  constructor(private readonly options: ExecServerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      handleProtocols: (offered) => this.negotiate(offered) ?? false,
    });
  }

  /** The first protocol the client offers that the server speaks (golang.org/x/net/websocket order). */
  negotiate(offered: Iterable<string>): ExecProtocol | undefined {
    for (const protocol of offered) {
      if ((this.options.protocols as readonly string[]).includes(protocol)) return protocol as ExecProtocol;
    }
    return undefined;
  }

  get active(): number {
    return this.sessions.size;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, request: Omit<ExecRequest, 'protocol'>, target: ExecTarget): void {
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const protocol = this.negotiate(offered);
    if (protocol === undefined) {
      rejectUpgrade(
        socket,
        badRequestStatus(`requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${this.options.protocols.join(' ')}]`),
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new ExecSession({ ...request, protocol }, target, ws);
      this.sessions.add(session);
      this.records.push(session.record);
      ws.on('close', () => {
        session.finish('client-closed');
        this.sessions.delete(session);
      });
      ws.on('error', () => session.finish('client-closed'));
      // Input frames (stdin, v5 close signals, resize) are accepted and ignored.
      ws.on('message', () => undefined);
      this.run(session).catch((error: unknown) => {
        this.options.onError(error);
        ws.terminate();
      });
    });
  }

  /** Ends every session now (hanging ones included). */
  closeAll(): void {
    for (const session of this.sessions) {
      session.finish('server-closed');
      session.socket.terminate();
    }
    this.sessions.clear();
    this.wss.close();
  }

  private async run(session: ExecSession): Promise<void> {
    const { socket: ws, target } = session;
    // kube-apiserver writes an empty frame on the lowest output channel once streams are ready.
    ws.send(EMPTY_FRAMES[target.stdout ? STDOUT : target.stderr ? STDERR : STATUS]!);
    if (!(await session.wait(this.options.latencyMs))) return;

    let answer: ExecAnswer;
    try {
      answer = await this.options.handler()(session.request);
    } catch (error) {
      answer = { runtimeError: error instanceof Error ? error.message : String(error) };
    }
    if (answer === 'hang' || !session.running) return;
    if (answer === 'drop') {
      if (target.stdout) ws.send(frame(STDOUT, Buffer.from('{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.SecretsConfigDump",')));
      ws.terminate();
      return;
    }
    if (answer.delayMs !== undefined && !(await session.wait(answer.delayMs))) return;

    if (target.stdout && answer.stdout !== undefined) this.sendStream(ws, STDOUT, answer.stdout);
    if (target.stderr && answer.stderr !== undefined) this.sendStream(ws, STDERR, answer.stderr);
    ws.send(this.statusFrame(session.request.command, answer));
    session.finish('completed');
    this.sessions.delete(session);
    ws.close(1000);
  }

  private statusFrame(command: readonly string[], answer: ExecResult): Buffer {
    if (answer.runtimeError !== undefined) return frame(STATUS, Buffer.from(JSON.stringify(runtimeErrorStatus(answer.runtimeError))));
    const exitCode = answer.exitCode ?? 0;
    if (exitCode === 0) return SUCCESS_FRAME;
    return frame(STATUS, Buffer.from(JSON.stringify(nonZeroExitStatus(command, exitCode))));
  }

  private sendStream(ws: WebSocket, channel: typeof STDOUT | typeof STDERR, payload: string | Buffer): void {
    for (const chunk of this.framesOf(channel, payload)) ws.send(chunk);
  }

  private framesOf(channel: typeof STDOUT | typeof STDERR, payload: string | Buffer): readonly Buffer[] {
    const cache = this.frameCache[channel - 1]!;
    if (typeof payload !== 'string') {
      const cached = cache.get(payload);
      if (cached !== undefined) return cached;
    }
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const frames: Buffer[] = [];
    for (let start = 0; start < bytes.length; start += CHUNK_BYTES) {
      frames.push(frame(channel, bytes, start, Math.min(bytes.length, start + CHUNK_BYTES)));
    }
    if (typeof payload !== 'string') cache.set(payload, frames);
    return frames;
  }
}

/** What Envoy's admin answers for a path it does not serve (pilot-agent prints it and exits 0). */
export const ENVOY_ADMIN_NOT_FOUND = [
  'invalid path. admin commands are:',
  '  /: Admin home page',
  '  /certs: print certs on machine',
  '  /clusters: upstream cluster status',
  '  /config_dump: dump current Envoy configs (experimental)',
  '  /healthcheck/fail: cause the server to fail health checks',
  '  /healthcheck/ok: cause the server to pass health checks',
  '  /help: print out list of admin commands',
  '  /listeners: print listener info',
  '  /logging: query/change logging levels',
  '  /memory: print current allocation/heap usage',
  '  /ready: print server state, return 200 if LIVE, otherwise return 503',
  '  /server_info: print server version/status information',
  '  /stats: print server stats',
  '',
].join('\n');

/** A scripted answer for one Envoy admin path: the admin response body, or a full exec answer. */
export type ProxyResponse = string | Buffer | ExecAnswer;

const PILOT_AGENT_USAGE = 'Usage:\n  pilot-agent request <method> <path> [<body>] [flags]\n';

/**
 * The default exec handler: `istio-proxy` answering `pilot-agent request GET <path>` from
 * per-pod scripted Envoy admin responses. pilot-agent prints the admin body plus a newline and
 * exits 0 whatever the HTTP status was.
 */
export class PilotAgentScript {
  private readonly byPod = new Map<string, Map<string, ExecAnswer>>();
  private readonly notFound: ExecResult = { stdout: Buffer.from(`${ENVOY_ADMIN_NOT_FOUND}\n`) };

  set(namespace: string, pod: string, responses: Readonly<Record<string, ProxyResponse>>): void {
    const paths = new Map<string, ExecAnswer>();
    for (const [path, response] of Object.entries(responses)) {
      paths.set(normalisePath(path), typeof response === 'string' || Buffer.isBuffer(response) ? { stdout: withNewline(response) } : response);
    }
    this.byPod.set(`${namespace}/${pod}`, paths);
  }

  clear(namespace?: string, pod?: string): void {
    if (namespace === undefined || pod === undefined) this.byPod.clear();
    else this.byPod.delete(`${namespace}/${pod}`);
  }

  readonly handle: ExecHandler = (request) => {
    const [executable, subcommand, ...args] = request.command;
    if (request.container !== 'istio-proxy' || executable !== 'pilot-agent') {
      return {
        runtimeError: `OCI runtime exec failed: exec failed: unable to start container process: exec: "${executable ?? ''}": executable file not found in $PATH: unknown`,
      };
    }
    if (subcommand !== 'request') return { stderr: `Error: unknown command "${subcommand ?? ''}" for "pilot-agent"\n`, exitCode: 1 };
    if (args.length < 2 || args.length > 3) {
      return { stderr: `Error: accepts between 2 and 3 arg(s), received ${args.length}\n${PILOT_AGENT_USAGE}`, exitCode: 1 };
    }
    const [method, path] = args as [string, string];
    if (method.toUpperCase() !== 'GET') return this.notFound;
    return this.byPod.get(`${request.namespace}/${request.pod}`)?.get(normalisePath(path)) ?? this.notFound;
  };
}

function normalisePath(path: string): string {
  return path.startsWith('/') ? path.slice(1) : path;
}

function withNewline(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([bytes, Buffer.from('\n')]);
}
