/**
 * How the engines reach a cluster's API server: a factory of Kubernetes clients by cluster. The
 * Lambdas use EKS (src/aws/eks-clients.ts: DescribeCluster + a locally signed IAM token), the CLI
 * a kubeconfig, tests the Kubernetes API emulator. The client itself is the Kubernetes adapter
 * (src/kube/kube-client.ts): the engines drive it through src/kube's sweep source and restart
 * operations, never through a raw HTTP call.
 */
import type { KubeClient } from '../kube/kube-client.js';

export interface ClusterLocation {
  readonly name: string;
  readonly region: string;
}

export type KubeClientFactory = (cluster: ClusterLocation) => Promise<KubeClient>;
