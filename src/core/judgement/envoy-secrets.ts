/**
 * Reads the SDS secrets out of an Envoy admin `config_dump` (full, `?mask=` or `?resource=` form).
 * Only names, versions, push times, certificate chains and trust bundles are read: private keys
 * and every other key field are never touched, so they cannot end up in results or errors.
 */
import { DumpError } from '../model/errors.js';
import { singleLine } from '../model/scrub.js';

const SECRETS_CONFIG_DUMP_TYPE = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump';
const DYNAMIC_SECRET_TYPE = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret';
const STATIC_SECRET_TYPE = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.StaticSecret';
const SPIFFE_VALIDATOR_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig';

/** Largest output accepted by default: a sidecar's secrets are a few KiB, a full dump a few MiB. */
export const DEFAULT_MAX_DUMP_BYTES = 8 * 1024 * 1024;

export type TrustBundleShape = 'trusted_ca' | 'spiffe';

export interface TrustBundle {
  /** `trusted_ca`: `validation_context.trusted_ca`; `spiffe`: the SPIFFE certificate validator's trust domains. */
  readonly shape: TrustBundleShape;
  /** PEM text of every bundle, all trust domains concatenated. */
  readonly pems: string;
  /** Trust domain names in dump order (empty for `trusted_ca`). */
  readonly trustDomains: readonly string[];
  /**
   * The SPIFFE validator's bundles one trust domain at a time, in dump order (empty for
   * `trusted_ca`): Envoy verifies a peer only against the bundle of the peer's own trust domain.
   */
  readonly domainBundles: readonly TrustDomainBundle[];
}

export interface TrustDomainBundle {
  readonly name: string;
  /** PEM text of this domain's bundle; null when it is empty or a file reference (see `reference`). */
  readonly pem: string | null;
  /** Set when the bundle is given as a `filename` / `environment_variable` we cannot read from here. */
  readonly reference?: DataSourceReference;
}

/** An Envoy `DataSource` that points outside the dump: the bytes are not in it. */
export type DataSourceReference = 'filename' | 'environment_variable';

export interface ParsedSecret {
  readonly name: string;
  readonly versionInfo: string | null;
  readonly lastUpdated: Date | null;
  /** Decoded PEM text of `tls_certificate.certificate_chain`, or null when the secret has none. */
  readonly certificateChainPem: string | null;
  /**
   * Present when `certificate_chain` is a `filename` (or `environment_variable`) data source:
   * Envoy reads the certificate itself and the dump carries only the path.
   */
  readonly certificateChainReference?: DataSourceReference;
  readonly trustBundle: TrustBundle | null;
}

export interface ParsedSecrets {
  readonly active: readonly ParsedSecret[];
  readonly warming: readonly ParsedSecret[];
}

export interface ParseSecretsOptions {
  /**
   * Which list `?resource=` entries (`DynamicSecret`) belong to: the sampler asks for
   * `dynamic_active_secrets` and `dynamic_warming_secrets` in two calls. Default `active`.
   */
  readonly resourceKind?: 'active' | 'warming';
  /** Larger output is refused before parsing. Default 8 MiB. */
  readonly maxBytes?: number;
}

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses `config_dump` output; throws DumpError when it is not a dump we can read. */
export function parseSecretsDump(text: string, options: ParseSecretsOptions = {}): ParsedSecrets {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DUMP_BYTES;
  const resourceKind = options.resourceKind ?? 'active';
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new DumpError(`config_dump output is ${size} bytes, larger than the ${maxBytes}-byte limit`);
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new DumpError('config_dump output is empty');

  let root: unknown;
  try {
    root = JSON.parse(trimmed);
  } catch (error) {
    // V8 quotes a slice of the input in its message: the cause keeps only the scrubbed form.
    const reason = error instanceof Error ? scrubJsonErrorMessage(error.message) : 'unparsable';
    const cause = new SyntaxError(reason);
    if (!/^[[{]/.test(trimmed)) {
      // `pilot-agent request` exits 0 on HTTP errors and prints the body: show its start, scrubbed.
      throw new DumpError(`config_dump output is not JSON: it begins with ${describePrefix(trimmed)}`, { cause });
    }
    throw new DumpError(`config_dump output is truncated or malformed JSON (${reason})`, { cause });
  }
  if (!isObject(root)) throw new DumpError('config_dump output is JSON but not an object');

  if (!('configs' in root)) {
    // proto3 JSON omits empty repeated fields: Envoy prints `{}` for a `?resource=` with nothing in it.
    if (Object.keys(root).length === 0) return { active: [], warming: [] };
    throw new DumpError('config_dump JSON has no "configs" array');
  }
  const configs = root.configs;
  if (!Array.isArray(configs)) throw new DumpError('config_dump JSON field "configs" is not an array');

  const active: ParsedSecret[] = [];
  const warming: ParsedSecret[] = [];
  configs.forEach((config, index) => {
    const path = `configs[${index}]`;
    if (!isObject(config)) throw new DumpError(`${path} is not an object`);
    const type = config['@type'];
    if (typeof type !== 'string') throw new DumpError(`${path} has no "@type" string`);
    if (type === SECRETS_CONFIG_DUMP_TYPE) {
      active.push(...secretList(config, 'static_secrets', path));
      active.push(...secretList(config, 'dynamic_active_secrets', path));
      warming.push(...secretList(config, 'dynamic_warming_secrets', path));
    } else if (type === DYNAMIC_SECRET_TYPE || type === STATIC_SECRET_TYPE) {
      (resourceKind === 'warming' && type === DYNAMIC_SECRET_TYPE ? warming : active).push(parseEntry(config, path));
    }
    // Any other config type (clusters, listeners, bootstrap...) is not ours to read.
  });
  return { active, warming };
}

/** Combines the `?resource=dynamic_active_secrets` and `?resource=dynamic_warming_secrets` results. */
export function mergeWarming(active: ParsedSecrets, warming: ParsedSecrets): ParsedSecrets {
  return { active: [...active.active, ...warming.active], warming: [...active.warming, ...warming.warming] };
}

/** The active secret with this name (first one when Envoy lists it twice), or undefined. */
export function findActive(secrets: ParsedSecrets, name: string): ParsedSecret | undefined {
  return secrets.active.find((secret) => secret.name === name);
}

function secretList(dump: JsonObject, field: string, dumpPath: string): ParsedSecret[] {
  const list = dump[field];
  if (list === undefined || list === null) return [];
  const path = `${dumpPath}.${field}`;
  if (!Array.isArray(list)) throw new DumpError(`${path} is not an array`);
  return list.map((entry, index) => {
    if (!isObject(entry)) throw new DumpError(`${path}[${index}] is not an object`);
    return parseEntry(entry, `${path}[${index}]`);
  });
}

/** One `DynamicSecret` / `StaticSecret`: `{ name, version_info?, last_updated?, secret? }`. */
function parseEntry(entry: JsonObject, path: string): ParsedSecret {
  const secret = optionalObject(entry, 'secret', path);
  const secretPath = `${path}.secret`;
  const name = optionalString(entry, 'name', path) ?? (secret ? optionalString(secret, 'name', secretPath) : null);
  if (name === null) throw new DumpError(`${path} has no secret name`);
  const versionInfo = optionalString(entry, 'version_info', path);
  const lastUpdated = optionalTimestamp(entry, 'last_updated', path);

  let certificateChainPem: string | null = null;
  let certificateChainReference: DataSourceReference | null = null;
  let trustBundle: TrustBundle | null = null;
  if (secret) {
    const tlsCertificate = optionalObject(secret, 'tls_certificate', secretPath);
    if (tlsCertificate) {
      // Only `certificate_chain`: `private_key` and the other key fields are deliberately never read.
      const chain = readDataSource(tlsCertificate, 'certificate_chain', `${secretPath}.tls_certificate`);
      certificateChainPem = chain.text;
      certificateChainReference = chain.reference;
    }
    const validationContext = optionalObject(secret, 'validation_context', secretPath);
    if (validationContext) trustBundle = parseTrustBundle(validationContext, `${secretPath}.validation_context`);
  }
  return {
    name,
    versionInfo,
    lastUpdated,
    certificateChainPem,
    ...(certificateChainReference !== null ? { certificateChainReference } : {}),
    trustBundle,
  };
}

function parseTrustBundle(context: JsonObject, path: string): TrustBundle | null {
  // tbot and SPIRE serve the SPIFFE validator (with an empty `trusted_ca` beside it): it wins.
  const validator = optionalObject(context, 'custom_validator_config', path);
  if (validator) {
    const validatorPath = `${path}.custom_validator_config`;
    const typedConfig = optionalObject(validator, 'typed_config', validatorPath);
    const typedPath = `${validatorPath}.typed_config`;
    const type = typedConfig ? optionalString(typedConfig, '@type', typedPath) : null;
    if (typedConfig && (type === null || type === SPIFFE_VALIDATOR_TYPE)) {
      const domains = typedConfig.trust_domains;
      if (domains !== undefined && domains !== null) {
        if (!Array.isArray(domains)) throw new DumpError(`${typedPath}.trust_domains is not an array`);
        const trustDomains: string[] = [];
        const pems: string[] = [];
        const domainBundles: TrustDomainBundle[] = [];
        domains.forEach((domain, index) => {
          const domainPath = `${typedPath}.trust_domains[${index}]`;
          if (!isObject(domain)) throw new DumpError(`${domainPath} is not an object`);
          const name = optionalString(domain, 'name', domainPath);
          if (name === null) throw new DumpError(`${domainPath} has no trust domain name`);
          trustDomains.push(name);
          const { text: pem, reference } = readDataSource(domain, 'trust_bundle', domainPath);
          if (pem !== null) pems.push(pem);
          domainBundles.push({ name, pem, ...(reference !== null ? { reference } : {}) });
        });
        if (trustDomains.length > 0) return { shape: 'spiffe', pems: joinPems(pems), trustDomains, domainBundles };
      }
    }
  }
  const trustedCa = readDataSource(context, 'trusted_ca', path).text;
  if (trustedCa !== null) return { shape: 'trusted_ca', pems: trustedCa, trustDomains: [], domainBundles: [] };
  return null;
}

interface DataSourceContent {
  /** Decoded text, null when absent, empty or a reference. */
  readonly text: string | null;
  readonly reference: DataSourceReference | null;
}

/**
 * An Envoy `DataSource`: the text of `inline_bytes` (base64) or `inline_string`, or which kind of
 * reference (`filename`, `environment_variable`) it is when the bytes are not in the dump.
 */
function readDataSource(parent: JsonObject, field: string, parentPath: string): DataSourceContent {
  const source = optionalObject(parent, field, parentPath);
  if (!source) return { text: null, reference: null };
  const path = `${parentPath}.${field}`;
  const inlineString = optionalString(source, 'inline_string', path);
  if (inlineString !== null && inlineString !== '') return { text: inlineString, reference: null };
  const inlineBytes = optionalString(source, 'inline_bytes', path);
  if (inlineBytes !== null && inlineBytes !== '') return { text: decodeBase64Text(inlineBytes, `${path}.inline_bytes`), reference: null };
  // The path or variable name is not read: only that the bytes live elsewhere.
  if (nonEmptyString(source.filename)) return { text: null, reference: 'filename' };
  if (nonEmptyString(source.environment_variable)) return { text: null, reference: 'environment_variable' };
  return { text: null, reference: null };
}

const nonEmptyString = (value: unknown): boolean => typeof value === 'string' && value !== '';

// proto3 JSON writes standard base64 and accepts the URL-safe alphabet and missing padding.
const BASE64_PATTERN = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBase64Text(value: string, path: string): string {
  const compact = value.replace(/\s+/g, '');
  if (!BASE64_PATTERN.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw new DumpError(`${path} is not valid base64`);
  }
  const bytes = Buffer.from(compact, 'base64');
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new DumpError(`${path} does not decode to UTF-8 text (expected PEM)`, { cause: error });
  }
}

function optionalObject(parent: JsonObject, field: string, parentPath: string): JsonObject | null {
  const value = parent[field];
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw new DumpError(`${parentPath}.${field} is not an object`);
  return value;
}

function optionalString(parent: JsonObject, field: string, parentPath: string): string | null {
  const value = parent[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new DumpError(`${parentPath}.${field} is not a string`);
  return value;
}

const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function optionalTimestamp(parent: JsonObject, field: string, parentPath: string): Date | null {
  const value = optionalString(parent, field, parentPath);
  if (value === null) return null;
  const time = TIMESTAMP_PATTERN.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new DumpError(`${parentPath}.${field} is not an RFC 3339 timestamp`);
  return new Date(time);
}

function joinPems(pems: readonly string[]): string {
  return pems.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('');
}

const PREFIX_LENGTH = 60;

/**
 * A short, single-line start of unexpected output for error messages. Anything that could be
 * key or certificate material (PEM armour, long base64-like runs) is replaced by `…`.
 */
export function describePrefix(text: string): string {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  let prefix = firstLine.slice(0, PREFIX_LENGTH);
  prefix = prefix.replace(/-----[A-Z0-9 ]*-----/g, '…').replace(/[A-Za-z0-9+/=]{16,}/g, '…');
  prefix = singleLine(prefix);
  const truncated = firstLine.length > PREFIX_LENGTH || text.length > firstLine.length;
  return JSON.stringify(truncated ? `${prefix}…` : prefix);
}

/**
 * V8 JSON errors quote a slice of the input (`..."abc": xyz"... is not valid JSON`), which may
 * itself hold quotes: drop everything from the first to the last quote, and the offending token.
 */
function scrubJsonErrorMessage(message: string): string {
  return message
    .replace(/(?:\.\.\.)?"[\s\S]*"(?:\.\.\.)?/, '"…"')
    .replace(/(Unexpected token) '[^']*'/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}
