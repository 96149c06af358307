/**
 * The streaming config_dump reader: same result as the in-memory parser on every shape, whatever
 * the chunk boundaries; the same errors for bad input; and `inspect` of a generated 25+ MiB full
 * dump end to end through the CLI (file and standard input).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../../src/cli/main.js';
import { parseSecretsDumpBuffer, parseSecretsDumpStream } from '../../src/core/judgement/config-dump-stream.js';
import { parseSecretsDump } from '../../src/core/judgement/envoy-secrets.js';
import { DumpError } from '../../src/core/model/errors.js';
import { agentVersionInfo, fullSecretsDump, resourceSecretsDump, tbotVersionInfo } from '../../src/sandbox/emulator/envoy-dump.js';
import { runCli } from '../support/cli.js';
import { writeLargeConfigDump } from '../support/large-config-dump.js';
import { at, leafPem, readFixture, T0, testPki } from './core-test-kit.js';
import { seededRandom } from '../../src/sandbox/simulation/random.js';

const FIXTURES = ['secret-istio/config_dump.json', 'secret-spire/config_dump.json', 'proxyconfig/config_dump.json'];

async function* chunksOf(bytes: Uint8Array, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; ) {
    const size = Math.max(1, sizes());
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

describe('parseSecretsDumpStream: same secrets as parseSecretsDump', () => {
  it.each(FIXTURES)('%s, whole and in chunks of every size from 1 byte', async (fixture) => {
    const text = readFixture(fixture);
    const expected = parseSecretsDump(text);
    const bytes = Buffer.from(text, 'utf8');
    expect(parseSecretsDumpBuffer(bytes)).toEqual(expected);
    for (const size of [1, 2, 3, 7, 64, 1000, 4096]) {
      expect(await parseSecretsDumpStream(chunksOf(bytes, () => size))).toEqual(expected);
    }
  });

  it('every split point of a ?resource= dump gives the same result (active and warming)', async () => {
    const { root } = await testPki();
    const text = JSON.stringify(
      resourceSecretsDump([
        { name: 'default', versionInfo: tbotVersionInfo(T0), lastUpdated: T0, chainPem: await leafPem(root) },
        { name: 'ROOTCA', rootCa: { shape: 'spiffe', trustDomains: [{ name: 'example.org', bundlePem: root.certificatePem }] } },
      ]),
    );
    const bytes = Buffer.from(text);
    for (const resourceKind of ['active', 'warming'] as const) {
      const expected = parseSecretsDump(text, { resourceKind });
      for (let split = 1; split < bytes.length; split += 1) {
        const parts = [bytes.subarray(0, split), bytes.subarray(split)];
        const parsed = await parseSecretsDumpStream((async function* () { yield* parts; })(), { resourceKind });
        if (JSON.stringify(parsed) !== JSON.stringify(expected)) throw new Error(`split at ${split} (${resourceKind}) differs`);
      }
    }
  });

  it('random chunkings of random dumps (seeded) agree with the in-memory parser', async () => {
    const { root } = await testPki();
    const random = seededRandom(20261201);
    const chainPem = await leafPem(root);
    for (let round = 0; round < 40; round += 1) {
      const secrets = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, index) => ({
        name: index === 0 ? 'default' : `secret-"${index}"-{[\\`,
        versionInfo: random() < 0.5 ? agentVersionInfo(at(index), index) : null,
        chainPem,
      }));
      const dump = fullSecretsDump({ active: secrets, warming: [{ name: 'ROOTCA', versionInfo: 'uninitialized' }] });
      // Other configs around the secrets, with their @type first, last or missing.
      const noise = { version_info: 'x', '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', clusters: [{ name: '"}]' }] };
      const configs = random() < 0.5 ? [noise, ...dump.configs, { '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump' }] : [...dump.configs, noise];
      const text = JSON.stringify({ configs }, null, random() < 0.5 ? 2 : 0);
      const bytes = Buffer.from(text);
      expect(await parseSecretsDumpStream(chunksOf(bytes, () => Math.floor(random() * 300)))).toEqual(parseSecretsDump(text));
    }
  });
});

describe('parseSecretsDumpStream: bad input is a DumpError naming the problem', () => {
  it.each([
    ['', /config_dump output is empty/],
    ['  \n', /config_dump output is empty/],
    ['upstream connect error or disconnect/reset before headers', /not JSON: it begins with "upstream connect error/],
    ['{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "x": [1, 2', /truncated or malformed JSON/],
    ['{"configs": [}', /truncated or malformed JSON \(mismatched brackets\)/],
    ['{"configs": []} trailing', /truncated or malformed JSON \(text after the end/],
    ['{"configs": {"a": 1}}', /"configs" is not an array/],
    ['{"configs": "x"}', /"configs" is not an array/],
    ['{"other": []}', /no "configs" array/],
    ['[1, 2]', /JSON but not an object/],
    ['{"configs": [{"name": "default"}]}', /configs\[0\] has no "@type" string/],
  ])('%p', async (text, message) => {
    const error = await parseSecretsDumpStream(chunksOf(Buffer.from(text), () => 3)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DumpError);
    expect((error as Error).message).toMatch(message);
  });

  it('reads {} (an empty ?resource= answer) as no secrets', async () => {
    expect(await parseSecretsDumpStream(chunksOf(Buffer.from('{}'), () => 1))).toEqual({ active: [], warming: [] });
  });

  it('refuses a secrets section above its limit but not a large dump around a small one', async () => {
    const { root } = await testPki();
    const text = JSON.stringify(fullSecretsDump({ active: [{ name: 'default', chainPem: await leafPem(root) }] }));
    const big = `{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump","pad":"${'x'.repeat(10_000)}"},${text.slice('{"configs":['.length)}`;
    expect((await parseSecretsDumpStream(chunksOf(Buffer.from(big), () => 999), { maxSecretsBytes: 2 * text.length })).active).toHaveLength(1);
    await expect(parseSecretsDumpStream(chunksOf(Buffer.from(text), () => 999), { maxSecretsBytes: 100 })).rejects.toThrow(/secrets section is larger than the 100-byte limit/);
  });
});

describe('inspect of a full dump of a mesh without Sidecar scoping (25+ MiB, generated)', () => {
  let dir: string;
  let file: string;
  let size: number;
  let clusters: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcw-large-dump-'));
    file = join(dir, 'config_dump.json');
    const { root, intermediate } = await testPki();
    const chainPem = `${await leafPem(intermediate, { notBefore: T0 })}${intermediate.certificatePem}`;
    ({ bytes: size, clusters } = await writeLargeConfigDump(file, 25 * 1024 * 1024 + 1, {
      active: [
        { name: 'default', versionInfo: agentVersionInfo(T0, 9), lastUpdated: T0, chainPem },
        { name: 'ROOTCA', versionInfo: agentVersionInfo(T0, 10), lastUpdated: T0, rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } },
      ],
    }));
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('judges it from a file, streaming', async () => {
    expect(size).toBeGreaterThan(25 * 1024 * 1024);
    expect(clusters).toBeGreaterThan(5000);
    const run = await runCli(['inspect', file, '--now', at(600).toISOString(), '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const verdict = JSON.parse(run.stdout) as { state: string; findings: string[]; source: string; certificate: { spiffeId: string } };
    expect(verdict).toMatchObject({ state: 'healthy', findings: [], source: 'istio-agent', certificate: { spiffeId: 'spiffe://example.org/ns/shop/sa/carts' } });
  }, 60_000);

  it('judges it from standard input as it arrives', async () => {
    let stdout = '';
    const io: CliIo = {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stdout += `ERR ${text}`),
      readStdin: () => Promise.reject(new Error('the whole of stdin must not be read into one string')),
      stdinChunks: () => chunksOf(readFileSync(file), () => 65536),
    };
    expect(await main(['inspect', '-', '--now', at(3000).toISOString()], io)).toBe(0);
    expect(stdout).toMatch(/^STATE\s+expiring$/m);
    expect(stdout).toMatch(/^FINDINGS\s+sds-pushes-stopped$/m);
  }, 60_000);
});

describe('inspect: the new findings and settings through the CLI', () => {
  it('--clock-skew-allowance decides not-yet-valid, and a bad value names the flag', async () => {
    const { root } = await testPki();
    const dir = mkdtempSync(join(tmpdir(), 'mcw-inspect-'));
    try {
      const file = join(dir, 'dump.json');
      const text = JSON.stringify(resourceSecretsDump([{ name: 'default', chainPem: await leafPem(root, { spiffeId: null }) }]));
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, text);
      const early = at(-120).toISOString();
      const strict = await runCli(['inspect', file, '--now', early, '-o', 'json']);
      expect(JSON.parse(strict.stdout)).toMatchObject({ state: 'expired', findings: ['identity-mismatch', 'not-yet-valid'] });
      const lenient = await runCli(['inspect', file, '--now', early, '--clock-skew-allowance', '5m', '-o', 'json']);
      expect(JSON.parse(lenient.stdout)).toMatchObject({ state: 'healthy', findings: ['identity-mismatch'] });
      const bad = await runCli(['inspect', file, '--clock-skew-allowance', '10%']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^error: --clock-skew-allowance: invalid clock-skew allowance "10%": a duration/);
      const tooLong = await runCli(['inspect', file, '--clock-skew-allowance', '2h']);
      expect(tooLong.stderr).toMatch(/--clock-skew-allowance: .*at most 60m/);
      const missing = await runCli(['inspect', join(dir, 'absent.json')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^error: FILE: cannot read .*absent\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
