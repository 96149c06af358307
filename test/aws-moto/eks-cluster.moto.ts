/**
 * test:aws tier: describeClusterEndpoint with a real EKSClient against moto's EKS.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { describeClusterEndpoint, EksClusterError, forgetClusterEndpoint } from '../../src/aws/eks-cluster.js';
import { MOTO_ACCOUNT, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from './moto-server.js';

let moto: Moto;
let eks: EKSClient;

beforeAll(async () => {
  moto = await startMoto();
  eks = new EKSClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
  await eks.send(
    new CreateClusterCommand({
      name: 'prod-mesh',
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks-cluster`,
      resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
    }),
  );
});

afterAll(async () => {
  eks?.destroy();
  await moto?.stop();
});

describe('describeClusterEndpoint on moto EKS', () => {
  it('returns the endpoint and CA data of an ACTIVE cluster', async () => {
    forgetClusterEndpoint();
    const result = await describeClusterEndpoint(eks, 'prod-mesh');
    expect(result.endpoint).toMatch(/^https:\/\/.+eks\.amazonaws\.com/);
    expect(result.certificateAuthorityData.length).toBeGreaterThan(100);
  });

  it('maps an unknown cluster to a not-found EksClusterError', async () => {
    const error = await describeClusterEndpoint(eks, 'no-such-cluster').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EksClusterError);
    expect(error).toMatchObject({ problem: 'not-found', clusterName: 'no-such-cluster' });
  });
});
