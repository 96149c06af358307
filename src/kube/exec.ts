/**
 * Runs one command in a container over the exec WebSocket and waits for the command to end.
 * client-node's `Exec.exec()` resolves when the socket opens, not when the command ends: the
 * result is the v4/v5 status message on channel 3, so that is what we wait for, under a
 * timeout and an output cap.
 */
import { Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { KubeApiError, SamplingError, TimeoutError, describeError } from '../core/model/errors.js';
import { withRetry } from '../core/model/retry.js';
import { scrubOpaque, singleLine } from '../core/model/scrub.js';
import { UpgradeRefusal, type KubeClient } from './kube-client.js';

export interface ExecOptions {
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
}

export interface ExecTarget {
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
}

/** Minimal view of the socket client-node hands back (isomorphic-ws over `ws`). */
interface ExecSocket {
  readonly readyState: number;
  on?(event: 'close', listener: () => void): void;
  addEventListener?(event: 'close', listener: () => void): void;
  close(): void;
  terminate?(): void;
}

const SOCKET_CLOSED = 3;

/** Answered by the API server before the upgrade, e.g. 404 when the pod is gone. */
export class ExecRejectedError extends KubeApiError {
  constructor(
    message: string,
    statusCode: number | undefined,
    reason: string | undefined,
    /** The server's Retry-After on a refused upgrade (429 or 503 from an overloaded API server or a proxy before it). */
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, statusCode, reason, options);
  }
}

export async function execCommand(client: KubeClient, target: ExecTarget, command: readonly string[], options: ExecOptions): Promise<Buffer> {
  const where = `${target.namespace}/${target.name}`;
  return withRetry(
    () => {
      // Like every other request: the exec never runs past the client's deadline.
      const timeoutMs = client.requestBudgetMs(options.timeoutMs);
      if (timeoutMs <= 0) return Promise.reject(new TimeoutError(`exec into ${where} not started: the deadline has passed`));
      return execOnce(client, target, command, { ...options, timeoutMs });
    },
    {
      ...client.retryOptions(),
      classify: (error) =>
        error instanceof ExecRejectedError && (error.statusCode === 429 || (error.statusCode ?? 0) >= 500)
          ? { retry: true, ...(error.retryAfterMs !== undefined ? { delayMs: error.retryAfterMs } : {}) }
          : { retry: false },
    },
  ).catch((error: unknown) => {
    if (error instanceof SamplingError || error instanceof TimeoutError || error instanceof ExecRejectedError) throw error;
    throw new SamplingError(`exec into ${where} failed: ${describeError(error)}`, { cause: error });
  });
}

function execOnce(client: KubeClient, target: ExecTarget, command: readonly string[], options: ExecOptions): Promise<Buffer> {
  const where = `${target.namespace}/${target.name}`;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let settled = false;
    let socket: ExecSocket | undefined;

    const finish = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (socket && socket.readyState !== SOCKET_CLOSED) (socket.terminate ?? socket.close).call(socket);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, bytes));
    };

    const timer = setTimeout(
      () => finish(new TimeoutError(`exec into ${where} timed out after ${Math.round(options.timeoutMs)} ms`)),
      options.timeoutMs,
    );

    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > options.maxOutputBytes) {
          finish(new SamplingError(`output of ${where} exceeds ${options.maxOutputBytes} bytes`));
        } else {
          chunks.push(chunk);
        }
        callback();
      },
    });
    const stderrSink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        // Only a short prefix is kept for the error message.
        if (stderr.length < 512) stderr += chunk.toString('utf8');
        callback();
      },
    });

    const onStatus = (status: V1Status): void => {
      if (status.status === 'Success') {
        finish(undefined);
        return;
      }
      const exitCode = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
      // stderr is the container's to write: scrubbed before it goes anywhere (report, events, Slack).
      const hint = singleLine(scrubOpaque(stderr).trim().split('\n')[0] ?? '').slice(0, 200);
      finish(
        new SamplingError(
          `command in ${where}/${target.container} failed${exitCode ? ` with exit code ${exitCode}` : ''}: ${status.message ?? status.reason ?? 'unknown error'}${hint ? ` (stderr: ${hint})` : ''}`,
        ),
      );
    };

    client.exec
      .exec(target.namespace, target.name, target.container, [...command], stdout, stderrSink, null, false, onStatus)
      .then((ws) => {
        socket = ws as unknown as ExecSocket;
        if (settled) {
          // Timed out while the socket was opening: nobody waits for it any more.
          (socket.terminate ?? socket.close).call(socket);
          return;
        }
        // Every socket closes, most after the status settled the exec: build the error only when it is one.
        const onClose = (): void => {
          if (!settled) finish(new SamplingError(`exec stream of ${where} closed before the command reported its status`));
        };
        if (socket.on) socket.on('close', onClose);
        else socket.addEventListener?.('close', onClose);
        if (socket.readyState === SOCKET_CLOSED) onClose();
      })
      .catch((error: unknown) => finish(toExecRejection(error, where)));
  });
}

/** ws reports a refused upgrade as "Unexpected server response: <code>" (UpgradeRefusal keeps Retry-After). */
function toExecRejection(error: unknown, where: string): Error {
  const inner = (error as { error?: unknown })?.error ?? error;
  const message = describeError(inner);
  const match = /Unexpected server response: (\d{3})/.exec(message);
  if (match) {
    const code = Number(match[1]);
    const reason = code === 404 ? 'NotFound' : code === 429 ? 'TooManyRequests' : undefined;
    const retryAfterMs = inner instanceof UpgradeRefusal ? inner.retryAfterMs : undefined;
    return new ExecRejectedError(`exec into ${where} refused by the API server (HTTP ${code})`, code, reason, retryAfterMs, { cause: error });
  }
  return new SamplingError(`exec into ${where} failed: ${message}`, { cause: error });
}
