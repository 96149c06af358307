import { describe, expect, it } from '@jest/globals';
import { DumpError } from '../../src/core/model/errors.js';
import { mergeWarming, parseSecretsDump, type ParsedSecrets } from '../../src/core/judgement/envoy-secrets.js';
import { leafPrivateKeyPem } from '../../src/sandbox/emulator/pki.js';
import { DYNAMIC_SECRET_TYPE, fullSecretsDump, REDACTED, resourceSecretsDump, SECRETS_CONFIG_DUMP_TYPE } from '../../src/sandbox/emulator/envoy-dump.js';
import { agentVersionInfo, tbotVersionInfo } from '../../src/sandbox/emulator/envoy-dump.js';
import { keyLeaks, leafPem, sharesRun, parseFull, parseResource, readFixture, T0, testPki, thrown } from './core-test-kit.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const certificateCount = (pem: string | null | undefined): number => (pem ?? '').split('-----BEGIN CERTIFICATE-----').length - 1;
const names = (secrets: ParsedSecrets): { active: string[]; warming: string[] } => ({
  active: secrets.active.map((s) => s.name),
  warming: secrets.warming.map((s) => s.name),
});

/** A `?resource=` dump built by hand, for shapes the emulator does not produce. */
function resourceDumpText(secret: Record<string, unknown>, entry: Record<string, unknown> = {}): string {
  return JSON.stringify({ configs: [{ '@type': DYNAMIC_SECRET_TYPE, name: 'default', ...entry, secret: { name: 'default', ...secret } }] });
}

/** What JSON.parse itself says about the text (to prove a test input makes V8 quote it). */
function thrownByV8(text: string): string {
  return thrown(() => JSON.parse(text)).message;
}

function dumpError(text: string, options?: Parameters<typeof parseSecretsDump>[1]): DumpError {
  const error = thrown(() => parseSecretsDump(text, options));
  expect(error).toBeInstanceOf(DumpError);
  return error as DumpError;
}

describe('parseSecretsDump: Istio fixtures', () => {
  it('reads the Istio-CA dump: chain, trusted_ca ROOTCA, warming entry, no version_info', () => {
    const parsed = parseSecretsDump(readFixture('secret-istio/config_dump.json'));
    expect(names(parsed)).toEqual({ active: ['default', 'ROOTCA'], warming: ['configmap://some/thing'] });
    const [workload, rootCa] = parsed.active;
    expect(workload?.versionInfo).toBeNull();
    expect(workload?.lastUpdated?.toISOString()).toBe('2023-05-15T01:32:52.262Z');
    expect(certificateCount(workload?.certificateChainPem)).toBe(2);
    expect(workload?.trustBundle).toBeNull();
    expect(rootCa?.certificateChainPem).toBeNull();
    expect(rootCa?.trustBundle?.shape).toBe('trusted_ca');
    expect(rootCa?.trustBundle?.trustDomains).toEqual([]);
    expect(certificateCount(rootCa?.trustBundle?.pems)).toBe(1);
    expect(parsed.warming[0]).toEqual({
      name: 'configmap://some/thing',
      versionInfo: 'uninitialized',
      lastUpdated: new Date('2025-04-11T14:59:35.648Z'),
      certificateChainPem: null,
      trustBundle: null,
    });
  });

  it('reads the SPIRE dump: SPIFFE validator ROOTCA beside an empty trusted_ca', () => {
    const parsed = parseSecretsDump(readFixture('secret-spire/config_dump.json'));
    expect(names(parsed)).toEqual({ active: ['default', 'ROOTCA'], warming: [] });
    const rootCa = parsed.active[1];
    expect(rootCa?.trustBundle?.shape).toBe('spiffe');
    expect(rootCa?.trustBundle?.trustDomains).toEqual(['east.local', 'west.local']);
    expect(certificateCount(rootCa?.trustBundle?.pems)).toBe(2);
    expect(certificateCount(parsed.active[0]?.certificateChainPem)).toBe(2);
  });

  it('finds the SecretsConfigDump by @type among the other configs of a full dump', () => {
    const full = parseSecretsDump(readFixture('proxyconfig/config_dump.json'));
    const secretsOnly = parseSecretsDump(readFixture('secret-istio/config_dump.json'));
    expect(full.active).toEqual(secretsOnly.active);
    expect(names(full).active).toEqual(['default', 'ROOTCA']);
  });

  it('never carries the redacted private key marker', () => {
    const parsed = parseSecretsDump(readFixture('secret-istio/config_dump.json'));
    expect(JSON.stringify(parsed)).not.toContain(REDACTED);
    expect(JSON.stringify(parsed)).not.toContain('[redacted]');
  });
});

describe('parseSecretsDump: envelopes', () => {
  it('reads active and warming lists of a full dump, with versions and push times', async () => {
    const { root } = await testPki();
    const chainPem = await leafPem(root);
    const parsed = parseFull({
      active: [
        { name: 'default', versionInfo: tbotVersionInfo(T0), lastUpdated: T0, chainPem },
        { name: 'ROOTCA', versionInfo: agentVersionInfo(T0, 3), rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } },
      ],
      warming: [{ name: 'default', versionInfo: 'uninitialized' }],
    });
    expect(names(parsed)).toEqual({ active: ['default', 'ROOTCA'], warming: ['default'] });
    expect(parsed.active[0]).toEqual({
      name: 'default',
      versionInfo: '2030-01-01T00:00:00.123456789Z',
      lastUpdated: T0,
      certificateChainPem: chainPem,
      trustBundle: null,
    });
    expect(parsed.active[1]?.versionInfo).toBe('2030-01-01T00:00:00Z/3');
    expect(parsed.active[1]?.trustBundle).toEqual({ shape: 'trusted_ca', pems: root.certificatePem, trustDomains: [], domainBundles: [] });
    expect(parsed.warming[0]).toEqual({ name: 'default', versionInfo: 'uninitialized', lastUpdated: null, certificateChainPem: null, trustBundle: null });
  });

  it('reads the ?resource= form as active by default and as warming when asked', async () => {
    const { root } = await testPki();
    const chainPem = await leafPem(root);
    const active = parseResource([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } }]);
    expect(names(active)).toEqual({ active: ['default', 'ROOTCA'], warming: [] });
    expect(active.active[0]?.certificateChainPem).toBe(chainPem);

    const warming = parseResource([{ name: 'default', versionInfo: 'uninitialized' }], 'warming');
    expect(names(warming)).toEqual({ active: [], warming: ['default'] });

    const merged = mergeWarming(active, warming);
    expect(names(merged)).toEqual({ active: ['default', 'ROOTCA'], warming: ['default'] });
    expect(merged.active).toEqual(active.active);
  });

  it('reads both ROOTCA shapes, concatenating SPIFFE trust domains', async () => {
    const { root, otherRoot } = await testPki();
    const parsed = parseResource([
      {
        name: 'ROOTCA',
        rootCa: {
          shape: 'spiffe',
          trustDomains: [
            { name: 'example.org', bundlePem: root.certificatePem },
            { name: 'other.example', bundlePem: otherRoot.certificatePem.trimEnd() },
          ],
        },
      },
    ]);
    const bundle = parsed.active[0]?.trustBundle;
    expect(bundle?.shape).toBe('spiffe');
    expect(bundle?.trustDomains).toEqual(['example.org', 'other.example']);
    // A bundle without a final newline must not glue its END line to the next BEGIN line.
    expect(bundle?.pems).toBe(`${root.certificatePem.trimEnd()}\n${otherRoot.certificatePem.trimEnd()}\n`);
  });

  it('accepts inline_string data sources', async () => {
    const { root } = await testPki();
    const chainPem = await leafPem(root);
    const parsed = parseSecretsDump(
      resourceDumpText({
        tls_certificate: { certificate_chain: { inline_string: chainPem } },
        validation_context: { trusted_ca: { inline_string: root.certificatePem } },
      }),
    );
    expect(parsed.active[0]?.certificateChainPem).toBe(chainPem);
    expect(parsed.active[0]?.trustBundle).toEqual({ shape: 'trusted_ca', pems: root.certificatePem, trustDomains: [], domainBundles: [] });
  });

  it('accepts URL-safe and unpadded base64', () => {
    const text = '-----BEGIN CERTIFICATE-----\n??>>\n-----END CERTIFICATE-----\n';
    const urlSafe = b64(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(b64(text)).toMatch(/[+/]/);
    const parsed = parseSecretsDump(resourceDumpText({ tls_certificate: { certificate_chain: { inline_bytes: urlSafe } } }));
    expect(parsed.active[0]?.certificateChainPem).toBe(text);
  });

  it('takes the name from the inner secret when the entry has none, and treats static secrets as active', () => {
    const text = JSON.stringify({
      configs: [
        {
          '@type': SECRETS_CONFIG_DUMP_TYPE,
          static_secrets: [{ last_updated: '2030-01-01T00:00:00Z', secret: { name: 'static-default' } }],
        },
      ],
    });
    expect(names(parseSecretsDump(text))).toEqual({ active: ['static-default'], warming: [] });
  });

  it('treats a file-backed data source as no chain (nothing we can read from here)', () => {
    const parsed = parseSecretsDump(resourceDumpText({ tls_certificate: { certificate_chain: { filename: '/etc/certs/cert-chain.pem' } } }));
    expect(parsed.active[0]?.certificateChainPem).toBeNull();
  });

  it.each([
    ['configs: []', '{"configs": []}'],
    ['an empty ConfigDump (proto3 JSON omits empty configs)', '{}\n'],
    ['a dump with no secrets config', JSON.stringify({ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump' }] })],
    ['a SecretsConfigDump with no lists', JSON.stringify(fullSecretsDump({ active: [] }))],
  ])('reads %s as no secrets', (_label, text) => {
    expect(parseSecretsDump(text)).toEqual({ active: [], warming: [] });
  });

  it('keeps timestamps with nanoseconds and offsets', () => {
    const parsed = parseSecretsDump(resourceDumpText({}, { last_updated: '2030-01-01T02:00:00.123456789+02:00' }));
    expect(parsed.active[0]?.lastUpdated?.toISOString()).toBe('2030-01-01T00:00:00.123Z');
  });
});

describe('parseSecretsDump: output that is not a dump', () => {
  it.each([
    ['empty output', '', 'config_dump output is empty'],
    ['blank output', ' \n\t\n', 'config_dump output is empty'],
    ['an HTTP error printed by pilot-agent', 'failed to get config_dump: 404 Not Found\nmore', 'config_dump output is not JSON: it begins with "failed to get config_dump: 404 Not Found…"'],
    ['Envoy\'s resource error', 'dynamic_warming_secrets not found in config dump', 'is not JSON: it begins with "dynamic_warming_secrets not found in config dump"'],
    ['a JSON array', '[]', 'JSON but not an object'],
    ['a JSON string', '"configs"', 'JSON but not an object'],
    ['JSON without configs', '{"status": "ok"}', 'has no "configs" array'],
    ['configs that is not an array', '{"configs": {}}', '"configs" is not an array'],
    ['a config that is not an object', '{"configs": [7]}', 'configs[0] is not an object'],
    ['a config without @type', '{"configs": [{}]}', 'configs[0] has no "@type" string'],
  ])('rejects %s', (_label, text, message) => {
    expect(dumpError(text).message).toContain(message);
  });

  it('rejects truncated JSON, naming the position but not the content', () => {
    const fixture = readFixture('secret-istio/config_dump.json');
    const truncated = fixture.slice(0, Math.floor(fixture.length / 2));
    const error = dumpError(truncated);
    expect(error.message).toMatch(/^config_dump output is truncated or malformed JSON \(.*position \d+/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    const tail = truncated.slice(-12);
    expect(error.message).not.toContain(tail);
    expect((error.cause as Error).message).not.toContain(tail);
  });

  it('does not echo the snippet V8 quotes from malformed JSON', () => {
    // V8: `Unexpected token 'S', ..."onfigs": [SECRETVALU"... is not valid JSON`
    expect(thrownByV8('{"configs": [SECRETVALUE1234]}')).toContain('SECRETVALU');
    const error = dumpError('{"configs": [SECRETVALUE1234]}');
    expect(error.message).toContain('malformed JSON');
    expect(error.message).not.toContain('SECRETVAL');
    expect((error.cause as Error).message).not.toContain('SECRETVAL');
  });

  it.each([
    ['a non-string name', { '@type': DYNAMIC_SECRET_TYPE, name: 5 }, 'configs[0].name is not a string'],
    ['no name at all', { '@type': DYNAMIC_SECRET_TYPE }, 'configs[0] has no secret name'],
    ['a non-string version_info', { '@type': DYNAMIC_SECRET_TYPE, name: 'default', version_info: 1 }, 'configs[0].version_info is not a string'],
    ['a bad last_updated', { '@type': DYNAMIC_SECRET_TYPE, name: 'default', last_updated: 'yesterday' }, 'configs[0].last_updated is not an RFC 3339 timestamp'],
    ['a secret that is an array', { '@type': DYNAMIC_SECRET_TYPE, name: 'default', secret: [] }, 'configs[0].secret is not an object'],
    [
      'inline_bytes that is a number',
      { '@type': DYNAMIC_SECRET_TYPE, name: 'default', secret: { tls_certificate: { certificate_chain: { inline_bytes: 12 } } } },
      'configs[0].secret.tls_certificate.certificate_chain.inline_bytes is not a string',
    ],
    [
      'trust_domains that is not an array',
      { '@type': DYNAMIC_SECRET_TYPE, name: 'ROOTCA', secret: { validation_context: { custom_validator_config: { typed_config: { trust_domains: {} } } } } },
      'configs[0].secret.validation_context.custom_validator_config.typed_config.trust_domains is not an array',
    ],
  ])('rejects %s', (_label, config, message) => {
    expect(dumpError(JSON.stringify({ configs: [config] })).message).toBe(message);
  });

  it('rejects a secret list that is not an array', () => {
    const text = JSON.stringify({ configs: [{ '@type': SECRETS_CONFIG_DUMP_TYPE, dynamic_active_secrets: {} }] });
    expect(dumpError(text).message).toBe('configs[0].dynamic_active_secrets is not an array');
  });

  it('rejects bytes that are not base64, without echoing them', () => {
    const error = dumpError(resourceDumpText({ tls_certificate: { certificate_chain: { inline_bytes: 'not*base64!!' } } }));
    expect(error.message).toBe('configs[0].secret.tls_certificate.certificate_chain.inline_bytes is not valid base64');
  });

  it('rejects base64 of bytes that are not text', () => {
    const bytes = Buffer.from([0x30, 0x82, 0xff, 0xfe, 0x00]).toString('base64');
    const error = dumpError(resourceDumpText({ tls_certificate: { certificate_chain: { inline_bytes: bytes } } }));
    expect(error.message).toContain('does not decode to UTF-8 text');
    // TextDecoder's TypeError comes from node's realm, not jest's: check its shape, not its class.
    expect((error.cause as Error | undefined)?.name).toBe('TypeError');
  });

  it('refuses output larger than maxBytes before parsing it', () => {
    const text = JSON.stringify({ configs: [] }) + ' '.repeat(100);
    expect(parseSecretsDump(text, { maxBytes: text.length })).toEqual({ active: [], warming: [] });
    expect(dumpError(text, { maxBytes: text.length - 1 }).message).toBe(
      `config_dump output is ${text.length} bytes, larger than the ${text.length - 1}-byte limit`,
    );
  });

  it('refuses output over 8 MiB by default', () => {
    const text = `{"configs": []}${' '.repeat(8 * 1024 * 1024)}`;
    expect(dumpError(text).message).toContain('larger than the 8388608-byte limit');
  });
});

describe('parseSecretsDump: private keys', () => {
  it('never reads an unredacted private key', async () => {
    const { root } = await testPki();
    const keyPem = await leafPrivateKeyPem();
    const dumpText = JSON.stringify(resourceSecretsDump([{ name: 'default', chainPem: await leafPem(root), privateKeyPem: keyPem }]));
    expect(keyLeaks(dumpText, keyPem).length).toBeGreaterThan(0); // the check can see the key in a dump
    const parsed = parseSecretsDump(dumpText);
    expect(parsed.active[0]?.certificateChainPem).toContain('BEGIN CERTIFICATE');
    expect(keyLeaks(JSON.stringify(parsed), keyPem)).toEqual([]);
  });

  it('scrubs PEM armour and base64 runs from the echoed start of non-JSON output', async () => {
    const keyPem = await leafPrivateKeyPem();
    const error = dumpError(keyPem);
    expect(error.message).toContain('is not JSON');
    expect(keyLeaks(error.message, keyPem)).toEqual([]);
    expect(keyLeaks(String((error.cause as Error).message), keyPem)).toEqual([]);

    const inline = dumpError(`error: ${b64(keyPem)}`);
    expect(inline.message).toBe('config_dump output is not JSON: it begins with "error: ……"');
  });

  it('does not leak the key when the dump is cut inside it', async () => {
    const { root } = await testPki();
    const keyPem = await leafPrivateKeyPem();
    const dumpText = JSON.stringify(resourceSecretsDump([{ name: 'default', chainPem: await leafPem(root), privateKeyPem: keyPem }]));
    const keyAt = dumpText.indexOf(b64(keyPem));
    for (const cut of [keyAt + 40, keyAt + 120, keyAt + b64(keyPem).length - 3]) {
      const error = dumpError(dumpText.slice(0, cut));
      expect(error.message).toContain('truncated or malformed JSON');
      expect(keyLeaks(`${error.message} ${(error.cause as Error).message}`, keyPem)).toEqual([]);
    }
    // Unquote the key: V8 then quotes the text around the unexpected token in its message.
    const unquoted = `${dumpText.slice(0, keyAt - 1)}${dumpText.slice(keyAt)}`;
    expect(sharesRun(thrownByV8(unquoted), b64(keyPem))).toBe(true);
    const error = dumpError(unquoted);
    const messages = `${error.message} ${(error.cause as Error).message}`;
    expect(keyLeaks(messages, keyPem)).toEqual([]);
    expect(sharesRun(messages, b64(keyPem))).toBe(false);
  });
});
