/**
 * Kubernetes groups the EKS access entries map the two Lambda roles to. The ClusterRoles and
 * bindings printed by `mesh-cert-watch rbac` bind these same groups: the sampler may only
 * read pods and exec into them, only the remediator may patch workloads.
 */
export const KUBERNETES_GROUPS = {
  sampler: 'mesh-cert-watch:sampler',
  remediator: 'mesh-cert-watch:remediator',
} as const;
