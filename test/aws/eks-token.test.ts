import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ConfigError, MeshCertWatchError } from '../../src/core/model/errors.js';
import {
  createEksToken,
  decodeEksToken,
  EksTokenProvider,
  stsHostForRegion,
  TOKEN_LIFETIME_MS,
} from '../../src/aws/eks-token.js';
import { formatExecCredential, toExecCredential } from '../../src/aws/exec-credential.js';

/** Output of test/vectors/eks-token-vector.py (botocore + awscli `aws eks get-token`). */
interface Vector {
  input: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    region: string;
    clusterName: string;
    signingDate: string;
  };
  withoutSessionToken: { url: string; token: string };
  withSessionToken: { url: string; token: string };
  partitions: Record<string, { url: string; token: string }>;
  awsEksGetToken: { stdout: string } | null;
}
const vector = JSON.parse(readFileSync(new URL('../vectors/eks-token.json', import.meta.url), 'utf8')) as Vector;
const { input } = vector;
const signingDate = new Date(input.signingDate);
const baseCredentials = { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey };

describe('createEksToken', () => {
  it('matches botocore byte for byte (no session token)', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: input.clusterName,
      region: input.region,
      credentials: baseCredentials,
      signingDate,
    });
    expect(token).toBe(vector.withoutSessionToken.token);
    expect(decodeEksToken(token).url.href).toBe(vector.withoutSessionToken.url);
    expect(expiresAt.toISOString()).toBe('2025-03-14T09:40:53.000Z');
  });

  it('matches botocore byte for byte with a session token containing reserved characters', async () => {
    const { token } = await createEksToken({
      clusterName: input.clusterName,
      region: input.region,
      credentials: { ...baseCredentials, sessionToken: input.sessionToken },
      signingDate,
    });
    expect(token).toBe(vector.withSessionToken.token);
    expect(decodeEksToken(token).query['X-Amz-Security-Token']).toBe(input.sessionToken);
  });

  it.each(Object.entries(vector.partitions))('uses the partition STS endpoint for %s', async (region, expected) => {
    const { token } = await createEksToken({ clusterName: input.clusterName, region, credentials: baseCredentials, signingDate });
    expect(token).toBe(expected.token);
  });

  it('decodes to the regional STS URL with the cluster header signed', async () => {
    const { token } = await createEksToken({
      clusterName: input.clusterName,
      region: input.region,
      credentials: baseCredentials,
      signingDate,
    });
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token).not.toMatch(/[=+/]/);
    const decoded = decodeEksToken(token);
    expect(decoded.url.protocol).toBe('https:');
    expect(decoded.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(decoded.url.pathname).toBe('/');
    expect(decoded.query).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Expires': '60',
      'X-Amz-Date': '20250314T092653Z',
      'X-Amz-Credential': 'AKIDEXAMPLE/20250314/eu-west-1/sts/aws4_request',
    });
    expect(decoded.signedHeaders).toEqual(['host', 'x-k8s-aws-id']);
    expect(decoded.query['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(decoded.query['X-Amz-Security-Token']).toBeUndefined();
  });

  it('binds the token to the cluster name (different cluster, different signature)', async () => {
    const a = await createEksToken({ clusterName: 'a', region: 'eu-west-1', credentials: baseCredentials, signingDate });
    const b = await createEksToken({ clusterName: 'b', region: 'eu-west-1', credentials: baseCredentials, signingDate });
    expect(decodeEksToken(a.token).query['X-Amz-Signature']).not.toBe(decodeEksToken(b.token).query['X-Amz-Signature']);
  });

  it('caps expiresAt at the expiration of temporary credentials', async () => {
    const expiration = new Date(signingDate.getTime() + 5 * 60_000);
    const { expiresAt } = await createEksToken({
      clusterName: 'c',
      region: 'eu-west-1',
      credentials: { ...baseCredentials, sessionToken: 't', expiration },
      signingDate,
    });
    expect(expiresAt.getTime()).toBe(expiration.getTime());
  });

  it('rejects bad input with typed errors', async () => {
    await expect(
      createEksToken({ clusterName: 'c', region: 'eu west 1', credentials: baseCredentials, signingDate }),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(createEksToken({ clusterName: ' ', region: 'eu-west-1', credentials: baseCredentials, signingDate })).rejects.toThrow(
      'clusterName',
    );
    expect(() => decodeEksToken('Bearer abc')).toThrow(MeshCertWatchError);
    expect(() => decodeEksToken('k8s-aws-v1.a=b')).toThrow(/base64url/);
  });

  it('maps regions to partition hosts', () => {
    expect(stsHostForRegion('cn-northwest-1')).toBe('sts.cn-northwest-1.amazonaws.com.cn');
    expect(stsHostForRegion('ap-southeast-5')).toBe('sts.ap-southeast-5.amazonaws.com');
    expect(stsHostForRegion('us-gov-east-1')).toBe('sts.us-gov-east-1.amazonaws.com');
  });
});

describe('toExecCredential', () => {
  it('prints what `aws eks get-token` prints', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: input.clusterName,
      region: input.region,
      credentials: baseCredentials,
      signingDate,
    });
    const credential = toExecCredential(token, expiresAt);
    expect(credential).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      spec: {},
      status: { expirationTimestamp: '2025-03-14T09:40:53Z', token: vector.withoutSessionToken.token },
    });
    expect(Object.keys(credential)).toEqual(['kind', 'apiVersion', 'spec', 'status']);
    // The CLI (awscli v1) adds one extra blank line after the JSON; the JSON text itself is identical.
    const cli = vector.awsEksGetToken;
    expect(cli).not.toBeNull();
    expect(formatExecCredential(credential)).toBe(`${cli!.stdout.trimEnd()}\n`);
  });

  it('drops milliseconds from the expiration timestamp', () => {
    expect(toExecCredential('t', new Date('2025-01-01T00:00:00.999Z')).status.expirationTimestamp).toBe('2025-01-01T00:00:00Z');
  });
});

describe('EksTokenProvider', () => {
  const start = new Date('2025-06-01T12:00:00Z');

  function fixture(refreshBeforeMs?: number) {
    let now = start.getTime();
    let credentialCalls = 0;
    const provider = new EksTokenProvider({
      clusterName: 'prod-mesh',
      region: 'eu-west-1',
      credentials: async () => {
        credentialCalls += 1;
        return baseCredentials;
      },
      clock: () => new Date(now),
      ...(refreshBeforeMs === undefined ? {} : { refreshBeforeMs }),
    });
    return {
      provider,
      advance: (ms: number) => {
        now += ms;
      },
      calls: () => credentialCalls,
    };
  }

  it('reuses the token until less than 60 s of its life remain, then re-signs', async () => {
    const f = fixture();
    const first = await f.provider.getToken();
    expect(first.expiresAt.getTime()).toBe(start.getTime() + TOKEN_LIFETIME_MS);
    f.advance(TOKEN_LIFETIME_MS - 61_000);
    expect(await f.provider.getToken()).toBe(first);
    expect(f.calls()).toBe(1);

    f.advance(2_000); // 59 s left
    const second = await f.provider.getToken();
    expect(f.calls()).toBe(2);
    expect(second.token).not.toBe(first.token);
    expect(decodeEksToken(second.token).query['X-Amz-Date']).toBe('20250601T121301Z');
    expect(second.expiresAt.getTime()).toBe(start.getTime() + TOKEN_LIFETIME_MS - 59_000 + TOKEN_LIFETIME_MS);
  });

  it('honours a custom refresh margin', async () => {
    const f = fixture(5 * 60_000);
    await f.provider.getToken();
    f.advance(TOKEN_LIFETIME_MS - 5 * 60_000 + 1);
    await f.provider.getToken();
    expect(f.calls()).toBe(2);
  });

  it('shares one signing between concurrent callers and re-signs after invalidate()', async () => {
    const f = fixture();
    const [a, b, c] = await Promise.all([f.provider.getToken(), f.provider.getToken(), f.provider.getToken()]);
    expect(f.calls()).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    f.provider.invalidate();
    await f.provider.getToken();
    expect(f.calls()).toBe(2);
  });

  it('surfaces credential failures as typed errors with the cause kept', async () => {
    const cause = new Error('no IMDS');
    const provider = new EksTokenProvider({
      clusterName: 'x',
      region: 'eu-west-1',
      credentials: async () => {
        throw cause;
      },
    });
    const error = await provider.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshCertWatchError);
    expect((error as MeshCertWatchError).code).toBe('AWS');
    expect((error as Error).cause).toBe(cause);
  });

  it('rejects a refresh margin that is not shorter than the token life', () => {
    expect(
      () => new EksTokenProvider({ clusterName: 'x', region: 'eu-west-1', credentials: async () => baseCredentials, refreshBeforeMs: TOKEN_LIFETIME_MS }),
    ).toThrow(ConfigError);
  });
});
