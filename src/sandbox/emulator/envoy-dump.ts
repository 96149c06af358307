/**
 * Builds Envoy admin `config_dump` secret payloads in the two shapes the watcher reads:
 * the full `SecretsConfigDump` and the `?resource=` form made of `DynamicSecret` entries.
 * Field names follow Envoy's admin JSON (snake_case, bytes as standard base64).
 */

export const SECRETS_CONFIG_DUMP_TYPE = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump';
export const DYNAMIC_SECRET_TYPE = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret';
const TLS_SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
const SPIFFE_VALIDATOR_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig';
/** What Envoy prints in place of private key bytes: base64 of `[redacted]`. */
export const REDACTED = 'W3JlZGFjdGVkXQ==';

export type RootCaSpec =
  | { readonly shape: 'trusted_ca'; readonly bundlePem: string }
  | { readonly shape: 'spiffe'; readonly trustDomains: readonly { readonly name: string; readonly bundlePem: string }[] };

export interface SecretSpec {
  readonly name: string;
  /** Omitted/null = no `version_info` field. */
  readonly versionInfo?: string | null;
  readonly lastUpdated?: Date | null;
  /** PEM chain (leaf first) for a `tls_certificate` secret. */
  readonly chainPem?: string;
  /** Private key bytes to put in the dump; defaults to Envoy's redaction marker. */
  readonly privateKeyPem?: string;
  readonly rootCa?: RootCaSpec;
}

export interface DumpSpec {
  readonly active: readonly SecretSpec[];
  readonly warming?: readonly SecretSpec[];
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function secretBody(spec: SecretSpec): Record<string, unknown> {
  const secret: Record<string, unknown> = { '@type': TLS_SECRET_TYPE, name: spec.name };
  if (spec.chainPem !== undefined) {
    secret.tls_certificate = {
      certificate_chain: { inline_bytes: b64(spec.chainPem) },
      private_key: { inline_bytes: spec.privateKeyPem === undefined ? REDACTED : b64(spec.privateKeyPem) },
    };
  }
  if (spec.rootCa?.shape === 'trusted_ca') {
    secret.validation_context = { trusted_ca: { inline_bytes: b64(spec.rootCa.bundlePem) } };
  } else if (spec.rootCa?.shape === 'spiffe') {
    secret.validation_context = {
      trusted_ca: {},
      custom_validator_config: {
        name: 'envoy.tls.cert_validator.spiffe',
        typed_config: {
          '@type': SPIFFE_VALIDATOR_TYPE,
          trust_domains: spec.rootCa.trustDomains.map((d) => ({ name: d.name, trust_bundle: { inline_bytes: b64(d.bundlePem) } })),
        },
      },
    };
  }
  return secret;
}

function dynamicSecret(spec: SecretSpec, withType: boolean): Record<string, unknown> {
  const entry: Record<string, unknown> = withType ? { '@type': DYNAMIC_SECRET_TYPE } : {};
  entry.name = spec.name;
  if (spec.versionInfo != null) entry.version_info = spec.versionInfo;
  if (spec.lastUpdated != null) entry.last_updated = spec.lastUpdated.toISOString();
  entry.secret = secretBody(spec);
  return entry;
}

/** `/config_dump` (or `?mask=`) form: one `SecretsConfigDump` in `configs[]`. */
export function fullSecretsDump(spec: DumpSpec): { configs: unknown[] } {
  const dump: Record<string, unknown> = {
    '@type': SECRETS_CONFIG_DUMP_TYPE,
    dynamic_active_secrets: spec.active.map((s) => dynamicSecret(s, false)),
  };
  if (spec.warming && spec.warming.length > 0) dump.dynamic_warming_secrets = spec.warming.map((s) => dynamicSecret(s, false));
  return { configs: [dump] };
}

/** `/config_dump?resource=dynamic_active_secrets` (or `dynamic_warming_secrets`) form. */
export function resourceSecretsDump(secrets: readonly SecretSpec[]): { configs: unknown[] } {
  return { configs: secrets.map((s) => dynamicSecret(s, true)) };
}

/** tbot stamps `version_info` with `time.Now().UTC().Format(time.RFC3339Nano)`. */
export function tbotVersionInfo(at: Date, nanos = 123456789): string {
  // Go's RFC3339Nano drops trailing zeros of the fraction, and the dot with them.
  const fraction = String(nanos).padStart(9, '0').replace(/0+$/, '');
  return at.toISOString().replace(/\.\d{3}Z$/, fraction ? `.${fraction}Z` : 'Z');
}

/** The Istio agent's SDS server stamps `<RFC3339>/<counter>`. */
export function agentVersionInfo(at: Date, counter: number): string {
  return `${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}/${counter}`;
}
