/** Shared helpers for the emulator tests: catching client-node ApiExceptions and running execs. */
import { Writable } from 'node:stream';
import { ApiException, Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';

/** The ApiException a client-node call rejects with (fails the test when it resolves instead). */
export async function apiError(call: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) return error as ApiException<unknown>;
    throw error;
  }
  throw new Error('expected the API call to fail');
}

/**
 * client-node hands the error body over as the raw response text (not parsed JSON);
 * parse it back into the Status object.
 */
export function statusBody(error: ApiException<unknown>): Record<string, unknown> {
  return JSON.parse(String(error.body)) as Record<string, unknown>;
}

export class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  readonly finished: Promise<Buffer>;

  constructor() {
    super();
    this.finished = new Promise((resolve) => this.once('finish', () => resolve(Buffer.concat(this.chunks))));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
}

export interface RunningExec {
  readonly socket: Awaited<ReturnType<Exec['exec']>>;
  readonly stdout: Collector;
  readonly stderr: Collector;
  readonly status: Promise<V1Status>;
  statusSeen(): boolean;
}

/** Starts an exec through client-node's `Exec`; resolves when the socket is open. */
export async function startExec(kc: KubeConfig, namespace: string, pod: string, container: string, command: string[]): Promise<RunningExec> {
  const stdout = new Collector();
  const stderr = new Collector();
  let seen = false;
  let deliver!: (status: V1Status) => void;
  const status = new Promise<V1Status>((resolve) => (deliver = resolve));
  const socket = await new Exec(kc).exec(namespace, pod, container, command, stdout, stderr, null, false, (s) => {
    seen = true;
    deliver(s);
  });
  return { socket, stdout, stderr, status, statusSeen: () => seen };
}

/** Resolves when a client socket has closed. */
export function closed(socket: RunningExec['socket']): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => socket.addEventListener('close', () => resolve()));
}
