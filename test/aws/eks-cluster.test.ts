import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DescribeClusterCommand, type DescribeClusterCommandOutput } from '@aws-sdk/client-eks';
import { CoreV1Api } from '@kubernetes/client-node';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  describeClusterEndpoint,
  EksClusterError,
  forgetClusterEndpoint,
  kubeConfigForEks,
  type EksDescribeClient,
} from '../../src/aws/eks-cluster.js';
import { decodeEksToken, EksTokenProvider, TOKEN_LIFETIME_MS } from '../../src/aws/eks-token.js';
import { ClusterUnreachableError, ConfigError, MeshCertWatchError } from '../../src/core/model/errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const CA_DATA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

/** A stand-in for EKSClient.send that answers DescribeCluster from a table (our port, not the SDK). */
function fakeEks(answers: Record<string, DescribeClusterCommandOutput['cluster'] | Error>) {
  const calls: string[] = [];
  const client: EksDescribeClient = {
    config: { region: async () => 'eu-west-1' },
    async send(command: DescribeClusterCommand) {
      expect(command).toBeInstanceOf(DescribeClusterCommand);
      const name = command.input.name!;
      calls.push(name);
      const answer = answers[name];
      if (answer instanceof Error) throw answer;
      return { cluster: answer, $metadata: {} };
    },
  };
  return { client, calls };
}

describe('describeClusterEndpoint', () => {
  beforeEach(() => forgetClusterEndpoint());

  it('returns endpoint and CA and caches them per container for the TTL', async () => {
    const { client, calls } = fakeEks({
      prod: { name: 'prod', status: 'ACTIVE', endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', certificateAuthority: { data: CA_DATA } },
    });
    let now = 1_000_000;
    const options = { ttlMs: 60_000, now: () => now };
    const first = await describeClusterEndpoint(client, 'prod', options);
    expect(first).toEqual({ endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', certificateAuthorityData: CA_DATA });
    now += 59_999;
    expect(await describeClusterEndpoint(client, 'prod', options)).toEqual(first);
    expect(calls).toEqual(['prod']);
    now += 1;
    await describeClusterEndpoint(client, 'prod', options);
    expect(calls).toEqual(['prod', 'prod']);
    forgetClusterEndpoint('eu-west-1', 'prod');
    await describeClusterEndpoint(client, 'prod', options);
    expect(calls).toHaveLength(3);
  });

  it('accepts UPDATING (control plane still serves during upgrades)', async () => {
    const { client } = fakeEks({
      up: { status: 'UPDATING', endpoint: 'https://x.eks.amazonaws.com', certificateAuthority: { data: CA_DATA } },
    });
    await expect(describeClusterEndpoint(client, 'up')).resolves.toMatchObject({ endpoint: 'https://x.eks.amazonaws.com' });
  });

  it.each(['CREATING', 'DELETING', 'FAILED', 'PENDING'])('refuses a %s cluster with a typed error and does not cache it', async (status) => {
    const { client, calls } = fakeEks({ c: { status, endpoint: 'https://x', certificateAuthority: { data: CA_DATA } } as never });
    const error = await describeClusterEndpoint(client, 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EksClusterError);
    expect(error).toBeInstanceOf(ClusterUnreachableError);
    expect(error).toMatchObject({ problem: 'not-ready', status, clusterName: 'c', code: 'CLUSTER_UNREACHABLE' });
    await describeClusterEndpoint(client, 'c').catch(() => undefined);
    expect(calls).toEqual(['c', 'c']);
  });

  it('refuses an ACTIVE cluster without endpoint or CA', async () => {
    const { client } = fakeEks({
      noCa: { status: 'ACTIVE', endpoint: 'https://x' },
      noEndpoint: { status: 'ACTIVE', certificateAuthority: { data: CA_DATA } },
    });
    await expect(describeClusterEndpoint(client, 'noCa')).rejects.toMatchObject({ problem: 'no-endpoint', message: expect.stringContaining('certificate authority') });
    await expect(describeClusterEndpoint(client, 'noEndpoint')).rejects.toMatchObject({ problem: 'no-endpoint', message: expect.stringContaining('endpoint') });
  });

  it('maps ResourceNotFound to not-found and other API errors to AWS errors, keeping the cause', async () => {
    const notFound = Object.assign(new Error('No cluster found for name: gone.'), { name: 'ResourceNotFoundException' });
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    const { client } = fakeEks({ gone: notFound, locked: denied });
    await expect(describeClusterEndpoint(client, 'gone')).rejects.toMatchObject({ problem: 'not-found', cause: notFound });
    const error = await describeClusterEndpoint(client, 'locked').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshCertWatchError);
    expect(error).not.toBeInstanceOf(EksClusterError);
    expect(error).toMatchObject({ code: 'AWS', cause: denied });
  });
});

async function makeTlsServerIdentity(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=test kubernetes CA',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=kube-apiserver',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey);
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem };
}

describe('kubeConfigForEks', () => {
  let server: Server;
  let endpoint: string;
  let caData: string;
  const seen: { path: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    const identity = await makeTlsServerIdentity();
    caData = Buffer.from(identity.caPem).toString('base64');
    server = createServer({ key: identity.keyPem, cert: identity.certPem }, (req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  function provider(clusterName: string) {
    let now = new Date('2025-06-01T12:00:00Z').getTime();
    const tokens = new EksTokenProvider({
      clusterName,
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }),
      clock: () => new Date(now),
    });
    return { tokens, advance: (ms: number) => (now += ms) };
  }

  it('sends a fresh EKS token on each request, re-signed after the refresh point', async () => {
    const { tokens, advance } = provider('prod-mesh');
    const kc = kubeConfigForEks({ name: 'prod-mesh', endpoint, caData, tokenProvider: tokens });
    expect(kc.getCurrentUser()?.token).toBeUndefined();
    const api = kc.makeApiClient(CoreV1Api);

    const list = await api.listNamespacedPod({ namespace: 'istio-demo' });
    expect(list.items).toEqual([]);
    await api.listNamespacedPod({ namespace: 'istio-demo' });
    advance(TOKEN_LIFETIME_MS - 30_000); // inside the 60 s refresh margin
    await api.listNamespacedPod({ namespace: 'istio-demo' });

    expect(seen.map((s) => s.path)).toEqual(Array(3).fill('/api/v1/namespaces/istio-demo/pods'));
    const bearer = seen.map((s) => s.authorization?.replace(/^Bearer /, '') ?? '');
    expect(bearer[0]).toMatch(/^k8s-aws-v1\./);
    expect(bearer[1]).toBe(bearer[0]);
    expect(bearer[2]).not.toBe(bearer[0]);
    expect(bearer[2]).toBe((await tokens.getToken()).token);
    expect(decodeEksToken(bearer[0]!).query['X-Amz-Date']).toBe('20250601T120000Z');
    expect(decodeEksToken(bearer[2]!).query['X-Amz-Date']).toBe('20250601T121330Z');
  });

  it('applies the token on the exec/WebSocket path too (applyToHTTPSOptions)', async () => {
    const { tokens } = provider('prod-mesh');
    const kc = kubeConfigForEks({ name: 'prod-mesh', endpoint, caData, tokenProvider: tokens });
    const opts: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe(`Bearer ${(await tokens.getToken()).token}`);
  });

  it('verifies the server against the cluster CA', async () => {
    const other = await makeTlsServerIdentity();
    const { tokens } = provider('prod-mesh');
    const kc = kubeConfigForEks({ name: 'prod-mesh', endpoint, caData: Buffer.from(other.caPem).toString('base64'), tokenProvider: tokens });
    const error = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' }).catch((e: unknown) => e);
    expect((error as Error).cause).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(seen).toEqual([]);
  });

  it('refuses a non-https endpoint', () => {
    const { tokens } = provider('x');
    expect(() => kubeConfigForEks({ name: 'x', endpoint: 'http://example.com', caData, tokenProvider: tokens })).toThrow(ConfigError);
  });
});
