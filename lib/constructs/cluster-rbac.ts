import * as eks from 'aws-cdk-lib/aws-eks';
import type { Construct } from 'constructs';
import { rbacObjects } from '../../src/rbac/rbac.js';

export interface MeshCertWatchRbacProps {
  /** The cluster your own CDK app manages (`eks.Cluster`, or imported with a kubectl provider). */
  readonly cluster: eks.ICluster;
  /** Also grant the remediator `delete` on pods: set it when `remediation.deleteBarePods` is on. Default false. */
  readonly deleteBarePods?: boolean;
  /** Where the cluster's tbot agents run (`clusters[].tbot.namespace`): the remediator's Role goes there. Default `teleport-system`. */
  readonly tbotNamespace?: string;
}

/**
 * Optional alternative to `mesh-cert-watch rbac | kubectl apply -f -` for apps that manage the
 * cluster with `aws-cdk-lib/aws-eks`: applies the same ClusterRoles and bindings (`rbacObjects`)
 * through the cluster's kubectl provider, plus the remediator's Role in the tbot namespace. `overwrite` so objects applied earlier by hand are adopted.
 */
export function applyMeshCertWatchRbac(scope: Construct, id: string, props: MeshCertWatchRbacProps): eks.KubernetesManifest {
  return new eks.KubernetesManifest(scope, id, {
    cluster: props.cluster,
    manifest: rbacObjects({ deleteBarePods: props.deleteBarePods ?? false, tbotNamespaces: [props.tbotNamespace ?? 'teleport-system'] }),
    overwrite: true,
  });
}
