/**
 * One KubeClient per EKS cluster, kept for the life of a warm Lambda container (shared by the
 * sampler and the remediator): the endpoint and CA come from DescribeCluster (cached in
 * eks-cluster.ts), the bearer token is signed locally from the function's role and refreshed
 * before it expires (EksTokenProvider), per request.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { describeClusterEndpoint, kubeConfigForEks, type ClusterEndpoint } from './eks-cluster.js';
import { EksTokenProvider } from './eks-token.js';
import { KubeClient, type KubeClientOptions } from '../kube/kube-client.js';
import type { ClusterLocation, KubeClientFactory } from '../ports/clusters.js';


export interface EksKubeClientsOptions {
  /**
   * Where the cluster's API server is. Default: DescribeCluster with a regional EKSClient (using
   * the same credentials), cached per container. Tests point it at the Kubernetes API emulator.
   */
  readonly resolveEndpoint?: (cluster: ClusterLocation) => Promise<ClusterEndpoint>;
  /** Retry policy of the clients (default: KubeClient's). */
  readonly kubeClient?: KubeClientOptions;
}

export function eksKubeClients(credentials: AwsCredentialIdentityProvider, options: EksKubeClientsOptions = {}): KubeClientFactory {
  const clients = new Map<string, Promise<KubeClient>>();
  const eks = new Map<string, EKSClient>();
  const describe = async (cluster: ClusterLocation): Promise<ClusterEndpoint> => {
    let regional = eks.get(cluster.region);
    if (!regional) {
      regional = new EKSClient({ region: cluster.region, credentials });
      eks.set(cluster.region, regional);
    }
    return describeClusterEndpoint(regional, cluster.name);
  };
  const resolveEndpoint = options.resolveEndpoint ?? describe;
  return (cluster) => {
    const key = `${cluster.region}/${cluster.name}`;
    let client = clients.get(key);
    if (!client) {
      client = (async () => {
        const endpoint = await resolveEndpoint(cluster);
        const tokenProvider = new EksTokenProvider({ clusterName: cluster.name, region: cluster.region, credentials });
        const kubeConfig = kubeConfigForEks({ name: cluster.name, endpoint: endpoint.endpoint, caData: endpoint.certificateAuthorityData, tokenProvider });
        return new KubeClient(kubeConfig, options.kubeClient);
      })();
      // A failed lookup is not cached: the next event tries again.
      client.catch(() => clients.delete(key));
      clients.set(key, client);
    }
    return client;
  };
}
