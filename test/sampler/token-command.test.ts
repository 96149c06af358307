/**
 * `mesh-cert-watch token`: the ExecCredential `aws eks get-token` prints, from the default
 * credential chain (fixed environment credentials here), decoded back to check what was signed.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createEksToken, decodeEksToken } from '../../src/aws/eks-token.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import { runCli } from '../support/cli.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'] as const;

let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  process.env.AWS_ACCESS_KEY_ID = KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = SECRET;
  // No shared config on the test machine can leak in.
  process.env.AWS_CONFIG_FILE = '/nonexistent/config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
});

afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const cli = runCli;

describe('mesh-cert-watch token', () => {
  it('prints a v1beta1 ExecCredential whose token is signed for the cluster with the environment credentials', async () => {
    const run = await cli(['token', '--cluster', 'prod-mesh', '--region', 'eu-west-1']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const credential = JSON.parse(run.stdout) as { kind: string; apiVersion: string; spec: object; status: { expirationTimestamp: string; token: string } };
    expect(Object.keys(credential)).toEqual(['kind', 'apiVersion', 'spec', 'status']);
    expect(credential).toMatchObject({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: {} });
    expect(credential.status.expirationTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const decoded = decodeEksToken(credential.status.token);
    expect(decoded.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(decoded.query).toMatchObject({ Action: 'GetCallerIdentity', Version: '2011-06-15', 'X-Amz-Expires': '60', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' });
    expect(decoded.query['X-Amz-Credential']).toMatch(new RegExp(`^${KEY_ID}/\\d{8}/eu-west-1/sts/aws4_request$`));
    expect(decoded.signedHeaders).toEqual(['host', 'x-k8s-aws-id']);
    expect(decoded.query).not.toHaveProperty('X-Amz-Security-Token');
    // 14 minutes after the signing instant, in whole seconds, as the AWS CLI reports it.
    const signedAt = decoded.query['X-Amz-Date']!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
    expect(Date.parse(credential.status.expirationTimestamp) - Date.parse(signedAt)).toBe(14 * 60_000);
  });

  it('prints exactly the ExecCredential JSON of `aws eks get-token` (4-space indent, newline) for a fixed instant', async () => {
    const at = new Date('2026-11-27T12:00:00.000Z');
    let stdout = '';
    await tokenCommand(['--cluster', 'prod-mesh'], { stdout: (t) => void (stdout += t) }, { env: { AWS_REGION: 'eu-west-1' }, now: () => at });
    const expected = await createEksToken({ clusterName: 'prod-mesh', region: 'eu-west-1', credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET }, signingDate: at });
    expect(stdout).toBe(
      [
        '{',
        '    "kind": "ExecCredential",',
        '    "apiVersion": "client.authentication.k8s.io/v1beta1",',
        '    "spec": {},',
        '    "status": {',
        '        "expirationTimestamp": "2026-11-27T12:14:00Z",',
        `        "token": "${expected.token}"`,
        '    }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION; a token for another cluster differs', async () => {
    const at = () => new Date('2026-11-27T12:00:00.000Z');
    const token = async (args: string[], env: Record<string, string>) => {
      let out = '';
      await tokenCommand(args, { stdout: (t) => void (out += t) }, { env, now: at });
      return (JSON.parse(out) as { status: { token: string } }).status.token;
    };
    expect(decodeEksToken(await token(['--cluster', 'a'], { AWS_DEFAULT_REGION: 'us-west-2' })).host).toBe('sts.us-west-2.amazonaws.com');
    expect(decodeEksToken(await token(['--cluster', 'a'], { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'us-west-2' })).host).toBe('sts.eu-central-1.amazonaws.com');
    expect(decodeEksToken(await token(['--cluster', 'a', '--region', 'cn-north-1'], { AWS_REGION: 'eu-central-1' })).host).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(await token(['--cluster', 'a'], { AWS_REGION: 'eu-west-1' })).not.toBe(await token(['--cluster', 'b'], { AWS_REGION: 'eu-west-1' }));
  });

  it('exits 2 naming --region when no region is known, and --cluster when it is missing', async () => {
    const noRegion = await cli(['token', '--cluster', 'prod-mesh']);
    expect([noRegion.code, noRegion.stdout]).toEqual([2, '']);
    expect(noRegion.stderr).toMatch(/^error: --region: /);
    const noCluster = await cli(['token', '--region', 'eu-west-1']);
    expect(noCluster.code).toBe(2);
    expect(noCluster.stderr).toMatch(/^error: --cluster: /);
    const badRegion = await cli(['token', '--cluster', 'x', '--region', 'mars']);
    expect(badRegion.stderr).toMatch(/^error: --region: not an AWS region name/);
  });

  it('reports a credential provider that finds nothing as a configuration error (exit 2), printing nothing', async () => {
    let stdout = '';
    const error = await tokenCommand(['--cluster', 'x', '--region', 'eu-west-1'], { stdout: (t) => void (stdout += t) }, {
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG', message: expect.stringMatching(/^AWS credentials: the default credential chain found none/) });
    expect(stdout).toBe('');
  });

  it('is listed in the help', async () => {
    expect((await cli(['help'])).stdout).toContain('mesh-cert-watch token --cluster NAME');
    expect((await cli(['help', 'token'])).stdout).toContain('client.authentication.k8s.io/v1beta1');
  });
});
