/**
 * One KubeClient per EKS cluster, kept for the life of a warm Lambda container: the endpoint
 * and CA come from DescribeCluster (cached in eks-cluster.ts), the bearer token is signed
 * locally from the function's role and refreshed before it expires (EksTokenProvider).
 */
import { EKSClient } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { describeClusterEndpoint, kubeConfigForEks } from '../aws/eks-cluster.js';
import { EksTokenProvider } from '../aws/eks-token.js';
import { KubeClient } from '../kube/kube-client.js';

export interface ClusterLocation {
  readonly name: string;
  readonly region: string;
}

export type KubeClientFactory = (cluster: ClusterLocation) => Promise<KubeClient>;

export function eksKubeClients(credentials: AwsCredentialIdentityProvider): KubeClientFactory {
  const clients = new Map<string, Promise<KubeClient>>();
  const eks = new Map<string, EKSClient>();
  return (cluster) => {
    const key = `${cluster.region}/${cluster.name}`;
    let client = clients.get(key);
    if (!client) {
      client = (async () => {
        let regional = eks.get(cluster.region);
        if (!regional) {
          regional = new EKSClient({ region: cluster.region, credentials });
          eks.set(cluster.region, regional);
        }
        const endpoint = await describeClusterEndpoint(regional, cluster.name);
        const tokenProvider = new EksTokenProvider({ clusterName: cluster.name, region: cluster.region, credentials });
        return new KubeClient(kubeConfigForEks({ name: cluster.name, endpoint: endpoint.endpoint, caData: endpoint.certificateAuthorityData, tokenProvider }));
      })();
      // A failed lookup is not cached: the next event tries again.
      client.catch(() => clients.delete(key));
      clients.set(key, client);
    }
    return client;
  };
}
