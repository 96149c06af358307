/**
 * Typed errors. Each carries a stable `code` for callers to branch on and keeps the `cause`
 * it wraps. Messages never include secrets, tokens or certificate key material.
 */
import { scrubKeyMaterial, singleLine } from './scrub.js';

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'THRESHOLD'
  | 'DUMP'
  | 'SAMPLING'
  | 'CLUSTER_UNREACHABLE'
  | 'KUBE_API'
  | 'TIMEOUT'
  | 'AWS'
  | 'SLACK'
  | 'EVENT';

export class MeshCertWatchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad command line or bad setting; `setting` names the exact flag or key at fault. */
export class UsageError extends MeshCertWatchError {
  constructor(
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('USAGE', `${setting}: ${message}`, options);
  }
}

/** Invalid configuration (file, environment, construct props); `setting` is its path. */
export class ConfigError extends MeshCertWatchError {
  constructor(
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('CONFIG', `${setting}: ${message}`, options);
  }
}

export class ThresholdError extends MeshCertWatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('THRESHOLD', message, options);
  }
}

/** A config_dump that is not the JSON we expect: the pod becomes `unreachable`. */
export class DumpError extends MeshCertWatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DUMP', message, options);
  }
}

/** One pod could not be sampled (exec failure, non-zero exit, timeout, oversized output). */
export class SamplingError extends MeshCertWatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SAMPLING', message, options);
  }
}

/** The Kubernetes API cannot be reached at all (CLI exit code 3, failed invocation). */
export class ClusterUnreachableError extends MeshCertWatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CLUSTER_UNREACHABLE', message, options);
  }
}

/** An API call answered with an error `Status`. */
export class KubeApiError extends MeshCertWatchError {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    readonly reason: string | undefined,
    options?: { cause?: unknown },
  ) {
    super('KUBE_API', message, options);
  }
}

export class TimeoutError extends MeshCertWatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIMEOUT', message, options);
  }
}

/**
 * Short, single-line description of any thrown value, for reports, events, logs and Slack: the
 * first line of the message, with any key material (which a cluster's answer could carry) scrubbed.
 */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? (scrubKeyMaterial(error.message).split('\n')[0] ?? error.name) : scrubKeyMaterial(String(error));
  return singleLine(text);
}

/** The pod disappeared between listing and sampling: not a sampling failure, just gone. */
export class PodGoneError extends MeshCertWatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SAMPLING', message, options);
  }
}

/**
 * An event whose detail is not the contract's shape (docs/contract.md §5 "Events"); `field` names
 * the fault (`detail.pods[0].state`). When a zod schema refused it, the ZodError is the `cause`.
 */
export class InvalidEventError extends MeshCertWatchError {
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('EVENT', `${field}: ${message}`, options);
  }
}

/**
 * A Slack incoming webhook refused or did not answer a post. `statusCode` is the HTTP status
 * (undefined when no response arrived); `retryAfterMs` is the server's `Retry-After` on 429.
 * The message never contains the webhook URL (the URL is the credential).
 */
export class SlackError extends MeshCertWatchError {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super('SLACK', message, options);
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `['clusters', 1, 'schedule']` -> `clusters[1].schedule`, prefixed with `root` when given. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let text = root;
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text || '(root)';
}
