/** What the engine knows about a pod before sampling it (taken from the pod object). */
export interface OwnerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly controller: boolean;
}

/** Kept small on purpose: one per injected pod, for the whole sweep. */
export interface PodTarget {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly serviceAccount: string;
  readonly node: string;
  /** The sidecar container to exec into (`istio-proxy`). */
  readonly container: string;
  readonly ownerReferences: readonly OwnerRef[];
  /** `workload-certs` emptyDir beside a SPIFFE workload socket volume. */
  readonly workloadCertsBesideSocket: boolean;
  /** The pod mounts the SPIFFE CSI workload socket: tbot (via the CSI driver) serves it. */
  readonly spiffeSocket?: boolean;
}

export type PodListing =
  | { readonly kind: 'target'; readonly target: PodTarget }
  | { readonly kind: 'skipped'; readonly namespace: string; readonly name: string; readonly reason: string };
