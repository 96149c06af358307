/**
 * Shared helpers for the core unit tests: the Istio fixtures, their golden tables, a small PKI
 * and dump builders. Not a test file itself.
 */
import { readFileSync } from 'node:fs';
import { createIntermediateCa, createRootCa, issueLeaf, type CertificateAuthority } from '../../src/sandbox/emulator/pki.js';
import { fullSecretsDump, resourceSecretsDump, type DumpSpec, type SecretSpec } from '../../src/sandbox/emulator/envoy-dump.js';
import { parseSecretsDump, type ParsedSecrets } from '../../src/core/judgement/envoy-secrets.js';

const FIXTURES = new URL('../fixtures/istio/', import.meta.url);

export function readFixture(relativePath: string): string {
  return readFileSync(new URL(relativePath, FIXTURES), 'utf8');
}

/** Rows of an `istioctl proxy-config secret` golden table, cells cut at the header's column starts. */
export function parseGoldenTable(text: string): Record<string, string>[] {
  const [header = '', ...lines] = text.split('\n').filter((line) => line.trim() !== '');
  const columns = [...header.matchAll(/\S+(?: \S+)*/g)].map((match) => ({ name: match[0], start: match.index }));
  return lines.map((line) =>
    Object.fromEntries(
      columns.map((column, index) => [column.name, line.slice(column.start, columns[index + 1]?.start ?? line.length).trim()]),
    ),
  );
}

/** Serial numbers compared as integers: golden tables print `%032x`, node prints the DER bytes. */
export function sameSerial(a: string, b: string): boolean {
  return BigInt(`0x${a}`) === BigInt(`0x${b}`);
}

export const T0 = new Date('2030-01-01T00:00:00Z');
export const HOUR = 3600;
export const at = (seconds: number, from: Date = T0): Date => new Date(from.getTime() + seconds * 1000);

export interface TestPki {
  readonly root: CertificateAuthority;
  readonly intermediate: CertificateAuthority;
  readonly otherRoot: CertificateAuthority;
}

let pki: Promise<TestPki> | undefined;
export function testPki(): Promise<TestPki> {
  pki ??= (async () => {
    const root = await createRootCa('example.org');
    const intermediate = await createIntermediateCa(root, 'example.org intermediate');
    const otherRoot = await createRootCa('other.example');
    return { root, intermediate, otherRoot };
  })();
  return pki;
}

export async function leafPem(
  issuer: CertificateAuthority,
  options: { notBefore?: Date; lifetimeSeconds?: number; spiffeId?: string | null; serialNumber?: string } = {},
): Promise<string> {
  const notBefore = options.notBefore ?? T0;
  const leaf = await issueLeaf(issuer, {
    notBefore,
    notAfter: at(options.lifetimeSeconds ?? HOUR, notBefore),
    ...(options.spiffeId === null ? {} : { spiffeId: options.spiffeId ?? 'spiffe://example.org/ns/shop/sa/carts' }),
    ...(options.serialNumber === undefined ? {} : { serialNumber: options.serialNumber }),
  });
  return leaf.certificatePem;
}

export const parseFull = (spec: DumpSpec): ParsedSecrets => parseSecretsDump(JSON.stringify(fullSecretsDump(spec)));
export const parseResource = (secrets: readonly SecretSpec[], resourceKind: 'active' | 'warming' = 'active'): ParsedSecrets =>
  parseSecretsDump(JSON.stringify(resourceSecretsDump(secrets)), { resourceKind });

/**
 * Substrings that only the private part of a PKCS#8 P-256 key can produce: 12-character windows
 * of its base64 body over the private scalar (the algorithm header and the public key are shared
 * with the certificate, so they are not secrets), plus the scalar in hex.
 */
export function privateKeyFragments(privateKeyPem: string): string[] {
  const body = privateKeyPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64');
  // ECPrivateKey: ... OCTET STRING (0x04 0x20) <32-byte scalar>
  const scalarStart = der.indexOf(Buffer.from([0x02, 0x01, 0x01, 0x04, 0x20])) + 5;
  if (scalarStart < 5) throw new Error('not a PKCS#8 P-256 key');
  const scalar = der.subarray(scalarStart, scalarStart + 32);
  const firstChar = (Math.ceil(scalarStart / 3) * 3 * 4) / 3;
  const lastChar = (Math.floor((scalarStart + 32) / 3) * 3 * 4) / 3;
  const fragments = [scalar.toString('hex'), scalar.toString('hex').toUpperCase(), scalar.toString('base64')];
  const outer = Buffer.from(privateKeyPem, 'utf8').toString('base64');
  for (let i = firstChar; i + 12 <= lastChar; i += 4) {
    const window = body.slice(i, i + 12);
    fragments.push(window);
    // The same bytes as they appear in a dump: base64 of the PEM text (`inline_bytes`).
    const p = privateKeyPem.indexOf(window);
    if (p >= 0) {
      const outerWindow = outer.slice((Math.ceil(p / 3) * 4), Math.floor((p + 12) / 3) * 4);
      if (outerWindow.length >= 8) fragments.push(outerWindow);
    }
  }
  return fragments;
}

/** Every way the key could show up: its PEM armour (plain and base64'd) and its private fragments. */
export function keyLeaks(text: string, privateKeyPem: string): string[] {
  const markers = ['PRIVATE KEY', Buffer.from('-----BEGIN PRIVATE KEY-----').toString('base64').slice(0, 32)];
  return [...markers, ...privateKeyFragments(privateKeyPem)].filter((fragment) => text.includes(fragment));
}

/** True when `text` contains any `length`-character run of `secret` (V8 quotes ~10 characters). */
export function sharesRun(text: string, secret: string, length = 8): boolean {
  for (let i = 0; i + length <= secret.length; i += 1) if (text.includes(secret.slice(i, i + length))) return true;
  return false;
}

/** The value `fn` throws (fails the test when it does not throw). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error('expected the call to throw');
}
