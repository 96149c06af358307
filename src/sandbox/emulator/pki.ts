/**
 * A tiny SPIFFE-style PKI for the emulator, the demo and tests: a root CA, an optional
 * intermediate and leaf SVIDs with chosen validity windows. Keys are ECDSA P-256 (fast to make);
 * one leaf key pair is reused because only the certificate fields matter to the watcher.
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface CertificateAuthority {
  readonly name: string;
  readonly certificatePem: string;
  readonly keys: CryptoKeyPair;
}

export interface LeafOptions {
  /** e.g. `spiffe://example.org/ns/default/sa/carts`; omitted = no URI SAN. */
  readonly spiffeId?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Hex serial; random when omitted. */
  readonly serialNumber?: string;
}

export interface IssuedLeaf {
  readonly certificatePem: string;
  readonly serialNumber: string;
}

let leafKeys: Promise<CryptoKeyPair> | undefined;
function sharedLeafKeys(): Promise<CryptoKeyPair> {
  leafKeys ??= generateKeys();
  return leafKeys;
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** Positive, non-zero 16-byte serial as lower-case hex. */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return Buffer.from(bytes).toString('hex');
}

export async function createRootCa(
  trustDomain: string,
  validity: { notBefore: Date; notAfter: Date } = defaultCaValidity(),
): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const name = `CN=${trustDomain} root,O=mesh-cert-watch emulator`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { name, certificatePem: cert.toString('pem'), keys };
}

export interface IntermediateOptions {
  /** Default: the CA default window (a year either side of now). Expired or future ones test chain judgement. */
  readonly validity?: { readonly notBefore: Date; readonly notAfter: Date };
  /** Reuse another CA's keys (and so its subject key) to make a cross-signed or renewed twin. */
  readonly keysOf?: CertificateAuthority;
}

export async function createIntermediateCa(parent: CertificateAuthority, label: string, options: IntermediateOptions = {}): Promise<CertificateAuthority> {
  const keys = options.keysOf?.keys ?? (await generateKeys());
  const name = `CN=${label},O=mesh-cert-watch emulator`;
  const validity = options.validity ?? defaultCaValidity();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: parent.name,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: keys.publicKey,
    signingKey: parent.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey),
    ],
  });
  return { name, certificatePem: cert.toString('pem'), keys };
}

export async function issueLeaf(issuer: CertificateAuthority, options: LeafOptions): Promise<IssuedLeaf> {
  const keys = await sharedLeafKeys();
  const serialNumber = options.serialNumber ?? randomSerial();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  ];
  if (options.spiffeId) {
    extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'url', value: options.spiffeId }], true));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: '',
    issuer: issuer.name,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions,
  });
  return { certificatePem: cert.toString('pem'), serialNumber };
}

/** PKCS#8 PEM of the shared leaf key: only for tests proving key material never leaks. */
export async function leafPrivateKeyPem(): Promise<string> {
  return pkcs8Pem((await sharedLeafKeys()).privateKey);
}

async function pkcs8Pem(privateKey: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', privateKey);
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

function defaultCaValidity(): { notBefore: Date; notAfter: Date } {
  // Wide enough to cover simulated clocks years either side of today.
  return { notBefore: new Date('2000-01-01T00:00:00Z'), notAfter: new Date('2099-12-31T00:00:00Z') };
}

/** What an HTTPS server needs to present a certificate its clients can verify. */
export interface TlsServerIdentity {
  /** Trust anchor for clients (e.g. a kubeconfig's `certificate-authority-data`). */
  readonly caCertificatePem: string;
  readonly certificatePem: string;
  /** PKCS#8 PEM; hand it to `tls.createServer` only, never log it. */
  readonly privateKeyPem: string;
}

/**
 * Issues a TLS server certificate (SAN IP 127.0.0.1 and DNS localhost by default) from a fresh
 * private CA. Keys are ECDSA P-256 so handshakes stay cheap under many short connections.
 */
export async function issueTlsServerIdentity(
  options: { dnsNames?: readonly string[]; ipAddresses?: readonly string[]; commonName?: string } = {},
): Promise<TlsServerIdentity> {
  const caKeys = await generateKeys();
  const serverKeys = await generateKeys();
  const caName = 'CN=mesh-cert-watch emulator CA,O=mesh-cert-watch emulator';
  const validity = defaultCaValidity();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: caName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const names = [
    ...(options.dnsNames ?? ['localhost']).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? ['127.0.0.1']).map((value) => ({ type: 'ip' as const, value })),
  ];
  const serverCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${options.commonName ?? 'kube-apiserver'}`,
    issuer: caName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    caCertificatePem: caCert.toString('pem'),
    certificatePem: serverCert.toString('pem'),
    privateKeyPem: await pkcs8Pem(serverKeys.privateKey),
  };
}
