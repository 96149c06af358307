/**
 * The remediator's Kubernetes calls: read back the event's pod, its owner chain and namespace
 * (get only: pods, replicasets, namespaces, the controllers), and carry out a restart.
 *
 * A rollout restart is what `kubectl rollout restart` sends: a strategic-merge patch of
 * `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]`. Argo Rollouts are
 * custom resources, which reject strategic merge, so they get a JSON merge patch of their own
 * restart field `spec.restartAt`. Each patch carries the `metadata.resourceVersion` the decision
 * was made on: if the controller changed in between (someone else restarted, paused or rolled
 * it), the API server answers 409 and nothing is changed. Bare pods are deleted with a uid
 * precondition, so a replacement pod of the same name is never hit.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Observation, OwnerObservation, RemediationTrigger } from '../core/remediation/remediation.js';
import { RESTARTED_AT_ANNOTATION, workloadFacts, isRolloutRestartKind, POLICY_ANNOTATION, type RolloutRestartKind } from '../core/remediation/workload-facts.js';
import type { KubeClient } from './kube-client.js';

export const ARGO_ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;

interface ObjectMeta {
  readonly uid?: string;
  readonly name?: string;
  readonly creationTimestamp?: Date | string;
  readonly deletionTimestamp?: Date | string;
  readonly annotations?: Record<string, string>;
  readonly ownerReferences?: readonly { readonly apiVersion: string; readonly kind: string; readonly name: string; readonly controller?: boolean }[];
}

interface KubeObjectLike {
  readonly metadata?: ObjectMeta;
}

/** What to act on, with the version the decision was made on. */
export type RestartTarget =
  | { readonly kind: RolloutRestartKind; readonly namespace: string; readonly name: string; readonly resourceVersion: string | undefined }
  | { readonly kind: 'Pod'; readonly namespace: string; readonly name: string; readonly uid: string };

export interface ClusterObservation {
  readonly observation: Observation;
  readonly target: RestartTarget | null;
}

function isoOf(value: Date | string | undefined): string | null {
  if (value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return value;
}

function controllerOf(meta: ObjectMeta | undefined): { apiVersion: string; kind: string; name: string } | undefined {
  return meta?.ownerReferences?.find((o) => o.controller === true);
}

async function readController(client: KubeClient, namespace: string, kind: RolloutRestartKind, name: string): Promise<unknown> {
  const where = `${namespace}/${name}`;
  switch (kind) {
    case 'Deployment':
      return client.callOrUndefined(`get deployment ${where}`, () => client.apps.readNamespacedDeployment({ namespace, name }));
    case 'StatefulSet':
      return client.callOrUndefined(`get statefulset ${where}`, () => client.apps.readNamespacedStatefulSet({ namespace, name }));
    case 'DaemonSet':
      return client.callOrUndefined(`get daemonset ${where}`, () => client.apps.readNamespacedDaemonSet({ namespace, name }));
    case 'Rollout':
      return client.callOrUndefined(`get rollout ${where}`, () =>
        client.customObjects.getNamespacedCustomObject({ ...ARGO_ROLLOUTS, namespace, name }) as Promise<unknown>,
      );
  }
}

/** Follows pod → (ReplicaSet →) top controller and reads the controller itself. */
async function observeOwner(client: KubeClient, namespace: string, pod: KubeObjectLike): Promise<{ owner: OwnerObservation; resourceVersion?: string }> {
  let controller = controllerOf(pod.metadata);
  if (!controller) return { owner: { type: 'bare' } };
  if (controller.kind === 'ReplicaSet' && controller.apiVersion.startsWith('apps/')) {
    const replicaSet = await client.callOrUndefined(`get replicaset ${namespace}/${controller.name}`, () =>
      client.apps.readNamespacedReplicaSet({ namespace, name: controller!.name }),
    );
    if (!replicaSet) return { owner: { type: 'missing', ref: { kind: 'ReplicaSet', name: controller.name } } };
    const parent = controllerOf(replicaSet.metadata);
    // A ReplicaSet nobody owns has no rollout restart.
    if (!parent) return { owner: { type: 'unsupported', ref: { kind: 'ReplicaSet', name: controller.name } } };
    controller = parent;
  }
  const ref = { kind: controller.kind, name: controller.name };
  const known = isRolloutRestartKind(controller.kind) && (controller.kind === 'Rollout' ? controller.apiVersion.startsWith(`${ARGO_ROLLOUTS.group}/`) : controller.apiVersion === 'apps/v1');
  if (!known) return { owner: { type: 'unsupported', ref } };
  const kind = controller.kind as RolloutRestartKind;
  const object = await readController(client, namespace, kind, controller.name);
  if (object === undefined) return { owner: { type: 'missing', ref } };
  const facts = workloadFacts(kind, controller.name, object);
  return { owner: { type: 'workload', facts }, ...(facts.resourceVersion !== undefined ? { resourceVersion: facts.resourceVersion } : {}) };
}

/** Reads what the policy needs about the event's pod, fresh from the API server. */
export async function observeForRemediation(client: KubeClient, trigger: Pick<RemediationTrigger, 'namespace' | 'name'>): Promise<ClusterObservation> {
  const { namespace, name } = trigger;
  const [namespaceObject, pod] = await Promise.all([
    client.callOrUndefined(`get namespace ${namespace}`, () => client.core.readNamespace({ name: namespace })),
    client.callOrUndefined(`get pod ${namespace}/${name}`, () => client.core.readNamespacedPod({ namespace, name })),
  ]);
  const namespacePolicy = namespaceObject?.metadata?.annotations?.[POLICY_ANNOTATION];
  if (!pod) {
    return {
      observation: { namespaceFound: namespaceObject !== undefined, namespacePolicy, pod: null, owner: { type: 'unknown' } },
      target: null,
    };
  }
  const meta = pod.metadata;
  const { owner } = await observeOwner(client, namespace, pod);
  const observation: Observation = {
    namespaceFound: namespaceObject !== undefined,
    namespacePolicy,
    pod: {
      uid: meta?.uid ?? '',
      createdAt: isoOf(meta?.creationTimestamp),
      terminating: meta?.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
      policyAnnotation: meta?.annotations?.[POLICY_ANNOTATION],
    },
    owner,
  };
  const target: RestartTarget | null =
    owner.type === 'workload'
      ? { kind: owner.facts.kind, namespace, name: owner.facts.name, resourceVersion: owner.facts.resourceVersion }
      : owner.type === 'bare'
        ? { kind: 'Pod', namespace, name, uid: meta?.uid ?? '' }
        : null;
  return { observation, target };
}

/** The body `kubectl rollout restart` sends, plus the resourceVersion precondition. */
export function rolloutRestartPatch(target: RestartTarget & { kind: RolloutRestartKind }, restartedAt: string): Record<string, unknown> {
  const precondition = target.resourceVersion !== undefined ? { metadata: { resourceVersion: target.resourceVersion } } : {};
  if (target.kind === 'Rollout') return { ...precondition, spec: { restartAt: restartedAt } };
  return { ...precondition, spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } } };
}

/** Carries out the restart. Throws KubeApiError / ClusterUnreachableError from the API. */
export async function executeRestart(client: KubeClient, target: RestartTarget, restartedAt: string): Promise<void> {
  const { namespace, name } = target;
  const where = `${namespace}/${name}`;
  if (target.kind === 'Pod') {
    await client.call(`delete pod ${where}`, () =>
      client.core.deleteNamespacedPod({ namespace, name, body: { preconditions: { uid: target.uid } } }),
    );
    return;
  }
  const body = rolloutRestartPatch(target, restartedAt);
  // client-node 2.x would otherwise send its first listed type, application/json-patch+json.
  const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
  switch (target.kind) {
    case 'Deployment':
      await client.call(`patch deployment ${where}`, () => client.apps.patchNamespacedDeployment({ namespace, name, body }, strategic));
      return;
    case 'StatefulSet':
      await client.call(`patch statefulset ${where}`, () => client.apps.patchNamespacedStatefulSet({ namespace, name, body }, strategic));
      return;
    case 'DaemonSet':
      await client.call(`patch daemonset ${where}`, () => client.apps.patchNamespacedDaemonSet({ namespace, name, body }, strategic));
      return;
    case 'Rollout':
      // Custom resources accept JSON merge patch, not strategic merge.
      await client.call(`patch rollout ${where}`, () =>
        client.customObjects.patchNamespacedCustomObject({ ...ARGO_ROLLOUTS, namespace, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      );
      return;
  }
}

/**
 * Whether the restart we tried is in the cluster, read back after the PATCH (or DELETE) ended
 * without a clear answer: a lost response, a timeout, or a retry that met its own first attempt
 * (409 on the resourceVersion precondition). Ours is the workload whose restart field carries our
 * exact `restartedAt` (one writer per workload: the lease), or a bare pod that is gone or being
 * deleted. Throws when the read itself fails: then nobody knows, and the caller must not refund.
 */
export async function restartInPlace(client: KubeClient, target: RestartTarget, restartedAt: string): Promise<boolean> {
  const { namespace, name } = target;
  if (target.kind === 'Pod') {
    const pod = await client.callOrUndefined(`get pod ${namespace}/${name}`, () => client.core.readNamespacedPod({ namespace, name }));
    return pod === undefined || pod.metadata?.uid !== target.uid || (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null);
  }
  const object = (await readController(client, namespace, target.kind, name)) as
    | { spec?: { restartAt?: unknown; template?: { metadata?: { annotations?: Record<string, string> } } } }
    | undefined;
  if (object === undefined) return false;
  const written = target.kind === 'Rollout' ? object.spec?.restartAt : object.spec?.template?.metadata?.annotations?.[RESTARTED_AT_ANNOTATION];
  const value = written instanceof Date ? written.toISOString().replace(/\.\d{3}Z$/, 'Z') : written;
  return value === restartedAt;
}
