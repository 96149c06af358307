/**
 * Resolves the controller at the top of a pod's owner chain (Pod → ReplicaSet → Deployment or
 * Argo Rollout, Pod → Job → CronJob, StatefulSet, DaemonSet). Intermediate owners are fetched
 * at most once per resolver (one resolver per sweep), even when many pods ask concurrently.
 */
import type { WorkloadRef } from '../core/model/types.js';
import type { KubeClient } from './kube-client.js';
import type { OwnerRef } from '../core/model/pods.js';

interface OwnedObject {
  readonly metadata?: { readonly ownerReferences?: readonly { apiVersion: string; kind: string; name: string; controller?: boolean }[] };
}

/** Kinds whose own controller we look up; anything else is taken as the top. */
const INTERMEDIATE_KINDS = new Set(['ReplicaSet', 'Job']);

export class OwnerResolver {
  private readonly cache = new Map<string, Promise<WorkloadRef>>();
  /** Number of owner objects fetched from the API (for tests and metrics). */
  fetches = 0;

  constructor(private readonly client: KubeClient) {}

  /** The pod's top controller, or null for a bare pod. */
  async resolve(namespace: string, ownerReferences: readonly OwnerRef[]): Promise<WorkloadRef | null> {
    const controller = ownerReferences.find((o) => o.controller) ?? null;
    if (!controller) return null;
    return this.top(namespace, controller);
  }

  private top(namespace: string, owner: Pick<OwnerRef, 'apiVersion' | 'kind' | 'name'>): Promise<WorkloadRef> {
    if (!INTERMEDIATE_KINDS.has(owner.kind)) return Promise.resolve({ kind: owner.kind, name: owner.name });
    const key = `${owner.apiVersion}/${owner.kind}/${namespace}/${owner.name}`;
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.fetchParent(namespace, owner);
      this.cache.set(key, pending);
    }
    return pending;
  }

  private async fetchParent(namespace: string, owner: Pick<OwnerRef, 'apiVersion' | 'kind' | 'name'>): Promise<WorkloadRef> {
    this.fetches++;
    const object: OwnedObject =
      owner.kind === 'ReplicaSet'
        ? await this.client.call(`get replicaset ${namespace}/${owner.name}`, () => this.client.apps.readNamespacedReplicaSet({ namespace, name: owner.name }))
        : await this.client.call(`get job ${namespace}/${owner.name}`, () => this.client.batch.readNamespacedJob({ namespace, name: owner.name }));
    const parent = object.metadata?.ownerReferences?.find((o) => o.controller === true);
    // A ReplicaSet or Job without a controller is itself the workload.
    if (!parent) return { kind: owner.kind, name: owner.name };
    return this.top(namespace, parent);
  }
}
