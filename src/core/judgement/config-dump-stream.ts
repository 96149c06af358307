/**
 * Reads the SDS secrets out of a config_dump of any size without holding it: a full
 * `/config_dump` of a mesh without Sidecar scoping is tens of MiB of clusters, listeners and
 * routes, of which the watcher needs the few KiB of `SecretsConfigDump`. The input is scanned
 * byte by byte as it arrives; each element of the top-level `configs[]` whose `@type` is not a
 * secrets type is dropped as soon as its `@type` is read (Envoy prints `@type` first), and the
 * kept elements are handed to `parseSecretsDump`, which validates them fully.
 *
 * What is checked in the dropped parts: strings, escapes and bracket nesting (a truncated or
 * unbalanced dump is an error); tokens between them are not (they are not read, so they cannot
 * change a verdict).
 */
import { DumpError } from '../model/errors.js';
import { describePrefix, parseSecretsDump, type ParsedSecrets, type ParseSecretsOptions } from './envoy-secrets.js';

/** Secrets sections above this (after dropping everything else) are refused: thousands of secrets. */
export const DEFAULT_MAX_SECRETS_SECTION_BYTES = 64 * 1024 * 1024;

const KEPT_TYPES = new Set([
  'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
  'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
  'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.StaticSecret',
]);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
/** Keys and `@type` values longer than this are not captured (no Envoy key comes close). */
const MAX_CAPTURED_STRING = 512;

const isWhitespace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

export interface StreamSecretsOptions extends Pick<ParseSecretsOptions, 'resourceKind'> {
  /** Limit on the kept secrets section (not on the input). Default 64 MiB. */
  readonly maxSecretsBytes?: number;
}

/** Parses a config_dump given as a stream of chunks (file, stdin). Throws DumpError like `parseSecretsDump`. */
export async function parseSecretsDumpStream(chunks: AsyncIterable<Uint8Array | string>, options: StreamSecretsOptions = {}): Promise<ParsedSecrets> {
  const scanner = new SecretsSectionScanner(options.maxSecretsBytes ?? DEFAULT_MAX_SECRETS_SECTION_BYTES);
  for await (const chunk of chunks) scanner.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  const reduced = scanner.finish();
  return parseSecretsDump(reduced, {
    maxBytes: Number.MAX_SAFE_INTEGER, // the scanner enforced the limit on what it kept
    ...(options.resourceKind ? { resourceKind: options.resourceKind } : {}),
  });
}

/** The same, for a dump already in memory (tests, small inputs). */
export function parseSecretsDumpBuffer(bytes: Uint8Array, options: StreamSecretsOptions = {}): ParsedSecrets {
  const scanner = new SecretsSectionScanner(options.maxSecretsBytes ?? DEFAULT_MAX_SECRETS_SECTION_BYTES);
  scanner.push(bytes);
  return parseSecretsDump(scanner.finish(), {
    maxBytes: Number.MAX_SAFE_INTEGER,
    ...(options.resourceKind ? { resourceKind: options.resourceKind } : {}),
  });
}

type ElementDecision = 'undecided' | 'keep' | 'drop';

/**
 * Incremental scanner. Depth 1 is inside the root object, depth 2 inside `configs[]`, depth 3
 * inside one config element. Returns, from `finish()`, the JSON text
 * `{"configs":[<kept elements>]}` (or the whole input when the root is not an object, so that
 * `parseSecretsDump` reports it as usual).
 */
class SecretsSectionScanner {
  private readonly stack: number[] = [];
  private inString = false;
  private escaped = false;
  private started = false;
  private ended = false;
  private rootIsObject = true;
  private totalBytes = 0;

  /** Object levels whose keys we read: depth 1 (root) and depth 3 (config element). */
  private expectKey = false;
  private lastKey: string | null = null;
  private capture: number[] | null = null;
  private captureTooLong = false;
  private captureIsKey = false;

  private rootKeys = 0;
  private sawConfigs = false;
  private inConfigs = false;

  private element: Uint8Array[] = [];
  private elementBytes = 0;
  private elementActive = false;
  private elementStart = -1;
  private elementIsObject = false;
  private decision: ElementDecision = 'undecided';
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  /** Only for a root that is not an object: the raw input, bounded. */
  private raw: Uint8Array[] = [];
  private prefix: Uint8Array[] = [];
  private prefixBytes = 0;

  constructor(private readonly maxSecretsBytes: number) {}

  push(chunk: Uint8Array): void {
    this.totalBytes += chunk.length;
    if (this.prefixBytes < 256) {
      this.prefix.push(chunk.subarray(0, 256 - this.prefixBytes));
      this.prefixBytes += Math.min(chunk.length, 256 - this.prefixBytes);
    }
    if (!this.rootIsObject) {
      this.raw.push(chunk);
      if (this.totalBytes > this.maxSecretsBytes) {
        throw new DumpError(`config_dump output is not a JSON object: it begins with ${describePrefix(this.prefixText())}`);
      }
      return;
    }
    this.elementStart = this.elementActive ? 0 : -1;
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // Next backslash at or after the scan position, found once per stretch (-1: none left).
    let backslashAt = -2;
    try {
      for (let index = 0; index < chunk.length; index += 1) {
        if (this.inString && !this.escaped && this.capture === null) {
          // Inside a string we do not read: jump to its next quote or backslash (most of a dump).
          if (backslashAt !== -1 && backslashAt < index) backslashAt = buffer.indexOf(BACKSLASH, index);
          const quote = buffer.indexOf(QUOTE, index);
          const end = quote < 0 ? chunk.length : quote;
          index = backslashAt >= 0 && backslashAt < end ? backslashAt : end;
          if (index >= chunk.length) break;
        }
        this.step(chunk[index] as number, chunk, index);
      }
    } catch (error) {
      if (error instanceof EarlyStop) return;
      throw error;
    }
    if (this.elementActive && this.decision !== 'drop') this.collect(chunk.subarray(this.elementStart, chunk.length));
  }

  finish(): string {
    if (!this.rootIsObject) return Buffer.concat(this.raw).toString('utf8');
    if (!this.started) throw new DumpError('config_dump output is empty');
    if (!this.ended) throw new DumpError('config_dump output is truncated or malformed JSON (unexpected end of input)');
    if (!this.sawConfigs) {
      if (this.rootKeys === 0) return '{}';
      throw new DumpError('config_dump JSON has no "configs" array');
    }
    return `{"configs":[${this.kept.map((buffer) => buffer.toString('utf8')).join(',')}]}`;
  }

  private step(byte: number, chunk: Uint8Array, index: number): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (byte === BACKSLASH) this.escaped = true;
      else if (byte === QUOTE) {
        this.inString = false;
        this.endCapture();
        return;
      }
      if (this.capture) {
        if (this.capture.length < MAX_CAPTURED_STRING) this.capture.push(byte);
        else this.captureTooLong = true;
      }
      return;
    }
    if (isWhitespace(byte)) return;
    if (this.ended) throw this.malformed('text after the end of the JSON value');
    if (!this.started) {
      this.started = true;
      if (byte !== OPEN_BRACE) {
        // Not an object (an array, or the text of an HTTP error): hand it over whole, bounded, so
        // parseSecretsDump says what it is in its usual words.
        this.rootIsObject = false;
        this.raw.push(chunk.subarray(index));
        throw new EarlyStop();
      }
      this.stack.push(OPEN_BRACE);
      this.expectKey = true;
      return;
    }
    const depth = this.stack.length;
    // The start of a configs[] element.
    if (this.inConfigs && depth === 2 && !this.elementActive && byte !== COMMA && byte !== CLOSE_BRACKET) {
      this.elementActive = true;
      this.elementStart = index;
      this.element = [];
      this.elementBytes = 0;
      this.elementIsObject = byte === OPEN_BRACE;
      this.decision = 'undecided';
    }
    switch (byte) {
      case QUOTE:
        if (depth === 1 && this.lastKey === 'configs' && !this.inConfigs && !this.expectKey) {
          throw new DumpError('config_dump JSON field "configs" is not an array');
        }
        this.inString = true;
        this.startCapture(depth);
        return;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        if (depth === 1 && this.lastKey === 'configs') {
          if (byte !== OPEN_BRACKET) throw new DumpError('config_dump JSON field "configs" is not an array');
          this.inConfigs = true;
        }
        this.stack.push(byte);
        this.expectKey = byte === OPEN_BRACE && (this.stack.length === 1 || (this.stack.length === 3 && this.inConfigs));
        if (depth === 1 && this.lastKey === 'configs') this.expectKey = false;
        return;
      case CLOSE_BRACE:
      case CLOSE_BRACKET: {
        const open = this.stack.pop();
        if (open !== (byte === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET)) throw this.malformed('mismatched brackets');
        const after = this.stack.length;
        if (after === 0) {
          this.ended = true;
          return;
        }
        if (this.inConfigs && after === 2) this.endElement(chunk, index + 1);
        if (this.inConfigs && after === 1) {
          if (this.elementActive) this.endElement(chunk, index);
          this.inConfigs = false;
          this.lastKey = null;
        }
        return;
      }
      case COMMA:
        if (this.inConfigs && depth === 2 && this.elementActive) this.endElement(chunk, index);
        if (depth === 1 || (depth === 3 && this.inConfigs)) this.expectKey = true;
        return;
      case COLON:
        if (depth === 1 || (depth === 3 && this.inConfigs)) this.expectKey = false;
        return;
      default:
        if (depth === 1 && this.lastKey === 'configs' && !this.inConfigs && !this.expectKey) {
          throw new DumpError('config_dump JSON field "configs" is not an array');
        }
        return;
    }
  }

  private startCapture(depth: number): void {
    const keyLevel = depth === 1 || (depth === 3 && this.inConfigs && this.elementIsObject);
    if (!keyLevel) return;
    if (this.expectKey) {
      this.captureIsKey = true;
      this.capture = [];
      this.captureTooLong = false;
    } else if (depth === 3 && this.lastKey === '@type' && this.decision === 'undecided') {
      this.captureIsKey = false;
      this.capture = [];
      this.captureTooLong = false;
    }
  }

  private endCapture(): void {
    const bytes = this.capture;
    if (!bytes) return;
    this.capture = null;
    const text = this.captureTooLong ? null : decodeJsonString(bytes);
    const depth = this.stack.length;
    if (this.captureIsKey) {
      this.lastKey = text;
      if (depth === 1) {
        this.rootKeys += 1;
        if (text === 'configs') this.sawConfigs = true;
      }
      return;
    }
    // The `@type` of a config element decides whether its bytes are kept.
    this.decision = text !== null && KEPT_TYPES.has(text) ? 'keep' : 'drop';
    if (this.decision === 'drop') {
      this.element = [];
      this.elementBytes = 0;
    }
  }

  private endElement(chunk: Uint8Array, endExclusive: number): void {
    if (this.decision !== 'drop') {
      this.collect(chunk.subarray(this.elementStart < 0 ? 0 : this.elementStart, endExclusive));
      const text = Buffer.concat(this.element);
      this.keptBytes += text.length;
      if (this.keptBytes > this.maxSecretsBytes) {
        throw new DumpError(`config_dump secrets section is larger than the ${this.maxSecretsBytes}-byte limit`);
      }
      this.kept.push(text);
    }
    this.element = [];
    this.elementBytes = 0;
    this.elementActive = false;
    this.elementStart = -1;
    this.decision = 'undecided';
    this.lastKey = null;
  }

  private collect(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // Copy: the chunk's memory belongs to the stream and may be reused.
    this.element.push(Buffer.from(bytes));
    this.elementBytes += bytes.length;
    if (this.decision === 'undecided' && this.elementBytes > this.maxSecretsBytes) {
      throw new DumpError(`config_dump element without a leading "@type" is larger than the ${this.maxSecretsBytes}-byte limit`);
    }
  }

  private prefixText(): string {
    return Buffer.concat(this.prefix).toString('utf8');
  }

  private malformed(why: string): DumpError {
    return new DumpError(`config_dump output is truncated or malformed JSON (${why})`);
  }
}

/** Thrown inside `push` to stop scanning once the input is handed over raw. */
class EarlyStop extends Error {}

function decodeJsonString(bytes: readonly number[]): string | null {
  try {
    return JSON.parse(`"${Buffer.from(bytes).toString('utf8')}"`) as string;
  } catch {
    return null;
  }
}
