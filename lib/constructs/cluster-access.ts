import * as eks from 'aws-cdk-lib/aws-eks';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { KUBERNETES_GROUPS } from '../../src/config/kubernetes.js';

export interface ClusterAccessProps {
  /** Existing EKS clusters in the stack's region, authentication mode API or API_AND_CONFIG_MAP. */
  readonly clusterNames: readonly string[];
  /** Mapped to `mesh-cert-watch:sampler`. */
  readonly samplerRole: iam.IRole;
  /** Mapped to `mesh-cert-watch:remediator`. */
  readonly remediatorRole: iam.IRole;
}

/**
 * EKS access entries: the sampler role becomes Kubernetes group `mesh-cert-watch:sampler`, the
 * remediator role `mesh-cert-watch:remediator`. No access policies are associated: what the
 * groups may do is granted only by the ClusterRoles/bindings from `mesh-cert-watch rbac`.
 */
export class ClusterAccess extends Construct {
  /** Per cluster name: the two entries. */
  readonly entries: ReadonlyMap<string, { readonly sampler: eks.CfnAccessEntry; readonly remediator: eks.CfnAccessEntry }>;

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    const entries = new Map<string, { sampler: eks.CfnAccessEntry; remediator: eks.CfnAccessEntry }>();
    for (const clusterName of props.clusterNames) {
      // Ids are the cluster names (not positions) so reordering the config replaces nothing.
      const scopeForCluster = new Construct(this, clusterName);
      entries.set(clusterName, {
        sampler: new eks.CfnAccessEntry(scopeForCluster, 'Sampler', {
          clusterName,
          principalArn: props.samplerRole.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [KUBERNETES_GROUPS.sampler],
        }),
        remediator: new eks.CfnAccessEntry(scopeForCluster, 'Remediator', {
          clusterName,
          principalArn: props.remediatorRole.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [KUBERNETES_GROUPS.remediator],
        }),
      });
    }
    this.entries = entries;
  }
}
