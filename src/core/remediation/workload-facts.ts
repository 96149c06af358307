/**
 * What the remediation policy needs to know about a top controller, read from its freshly
 * fetched object: paused, mid-rollout (and why), update strategy, the last rollout restart and
 * the opt-in/opt-out annotation. Pure: works on the JSON (or client-node model) object, so the
 * rules for each kind are unit-testable and shared by the Lambda and the CLI.
 */
import type { WorkloadRef } from '../model/types.js';

export const POLICY_ANNOTATION = 'mesh-cert-watch.io/policy';
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** Controllers the remediator knows how to roll: the rollout restart of `kubectl` and Argo. */
export const ROLLOUT_RESTART_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'] as const;
export type RolloutRestartKind = (typeof ROLLOUT_RESTART_KINDS)[number];

export function isRolloutRestartKind(kind: string): kind is RolloutRestartKind {
  return (ROLLOUT_RESTART_KINDS as readonly string[]).includes(kind);
}

export interface WorkloadFacts extends WorkloadRef {
  readonly kind: RolloutRestartKind;
  /** Deployment/Rollout `spec.paused`, or an Argo pause condition. */
  readonly paused: boolean;
  /** Why a rollout is still in progress, or null when the controller has settled. */
  readonly rolling: string | null;
  /** `spec.strategy.type` (Deployment), `spec.updateStrategy.type` (StatefulSet, DaemonSet), `Canary`/`BlueGreen` (Rollout). */
  readonly updateStrategy: string | null;
  /** Latest rollout restart: the restartedAt template annotation, or Argo's `spec.restartAt`/`status.restartedAt`. */
  readonly lastRestartedAt: string | null;
  /** Raw `mesh-cert-watch.io/policy` annotation of the controller object. */
  readonly policyAnnotation: string | undefined;
  readonly resourceVersion: string | undefined;
}

type Json = Record<string, unknown>;

function field(object: unknown, ...path: string[]): unknown {
  let node = object;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  // Argo Rollouts reports `status.observedGeneration` as a string.
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Timestamps arrive as strings (custom objects) or Dates (client-node models). */
function timestamp(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return str(value);
}

function later(a: string | undefined, b: string | undefined): string | null {
  const at = a === undefined ? NaN : Date.parse(a);
  const bt = b === undefined ? NaN : Date.parse(b);
  if (Number.isNaN(at)) return Number.isNaN(bt) ? null : b!;
  if (Number.isNaN(bt)) return a!;
  return at >= bt ? a! : b!;
}

/** `observedGeneration < generation`: the controller has not acted on the latest spec yet. */
function unobservedGeneration(object: unknown): string | null {
  const generation = num(field(object, 'metadata', 'generation'));
  const observed = num(field(object, 'status', 'observedGeneration'));
  if (generation === undefined || observed === undefined || observed >= generation) return null;
  return `the controller has observed generation ${observed} of ${generation}`;
}

function deploymentRolling(object: unknown): string | null {
  const desired = num(field(object, 'spec', 'replicas')) ?? 1;
  const replicas = num(field(object, 'status', 'replicas')) ?? 0;
  const updated = num(field(object, 'status', 'updatedReplicas')) ?? 0;
  const available = num(field(object, 'status', 'availableReplicas')) ?? 0;
  // The same checks as `kubectl rollout status`.
  if (updated < desired) return `${updated} of ${desired} replicas updated`;
  if (replicas > updated) return `${replicas - updated} old replicas pending termination`;
  if (available < updated) return `${available} of ${updated} updated replicas available`;
  return null;
}

function statefulSetRolling(object: unknown): string | null {
  const desired = num(field(object, 'spec', 'replicas')) ?? 1;
  const partition = num(field(object, 'spec', 'updateStrategy', 'rollingUpdate', 'partition')) ?? 0;
  const ready = num(field(object, 'status', 'readyReplicas')) ?? 0;
  const updated = num(field(object, 'status', 'updatedReplicas')) ?? 0;
  const current = str(field(object, 'status', 'currentRevision'));
  const update = str(field(object, 'status', 'updateRevision'));
  if (ready < desired) return `${ready} of ${desired} replicas ready`;
  // OnDelete never replaces pods by itself: differing revisions are its steady state.
  if (str(field(object, 'spec', 'updateStrategy', 'type')) === 'OnDelete') return null;
  if (updated < desired - partition) return `${updated} of ${desired - partition} replicas updated`;
  if (partition === 0 && current !== undefined && update !== undefined && current !== update) return `revision ${current} is being replaced by ${update}`;
  return null;
}

function daemonSetRolling(object: unknown): string | null {
  const desired = num(field(object, 'status', 'desiredNumberScheduled')) ?? 0;
  const updated = num(field(object, 'status', 'updatedNumberScheduled')) ?? 0;
  const available = num(field(object, 'status', 'numberAvailable')) ?? 0;
  if (updated < desired) return `${updated} of ${desired} nodes updated`;
  if (available < desired) return `${available} of ${desired} nodes available`;
  return null;
}

function rolloutRolling(object: unknown): string | null {
  const phase = str(field(object, 'status', 'phase'));
  if (phase === 'Progressing') return 'phase Progressing';
  const desired = num(field(object, 'spec', 'replicas')) ?? 1;
  const updated = num(field(object, 'status', 'updatedReplicas')) ?? 0;
  if (updated < desired) return `${updated} of ${desired} replicas updated`;
  const current = str(field(object, 'status', 'currentPodHash'));
  const stable = str(field(object, 'status', 'stableRS'));
  if (current !== undefined && stable !== undefined && current !== stable) return `canary ${current} is not yet stable (stable ${stable})`;
  return null;
}

function rolloutPaused(object: unknown): boolean {
  const conditions = field(object, 'status', 'pauseConditions');
  return (
    field(object, 'spec', 'paused') === true ||
    field(object, 'status', 'controllerPause') === true ||
    (Array.isArray(conditions) && conditions.length > 0) ||
    str(field(object, 'status', 'phase')) === 'Paused'
  );
}

/** Facts about a controller of a kind the remediator can roll, from its object as read. */
export function workloadFacts(kind: RolloutRestartKind, name: string, object: unknown): WorkloadFacts {
  const annotations = field(object, 'metadata', 'annotations');
  const policyAnnotation = str(field(annotations, POLICY_ANNOTATION));
  const resourceVersion = str(field(object, 'metadata', 'resourceVersion'));
  const templateRestartedAt = str(field(object, 'spec', 'template', 'metadata', 'annotations', RESTARTED_AT_ANNOTATION));
  const unobserved = unobservedGeneration(object);
  const base = { kind, name, policyAnnotation, resourceVersion };
  switch (kind) {
    case 'Deployment':
      return {
        ...base,
        paused: field(object, 'spec', 'paused') === true,
        rolling: unobserved ?? deploymentRolling(object),
        updateStrategy: str(field(object, 'spec', 'strategy', 'type')) ?? 'RollingUpdate',
        lastRestartedAt: templateRestartedAt ?? null,
      };
    case 'StatefulSet':
      return {
        ...base,
        paused: false,
        rolling: unobserved ?? statefulSetRolling(object),
        updateStrategy: str(field(object, 'spec', 'updateStrategy', 'type')) ?? 'RollingUpdate',
        lastRestartedAt: templateRestartedAt ?? null,
      };
    case 'DaemonSet':
      return {
        ...base,
        paused: false,
        rolling: unobserved ?? daemonSetRolling(object),
        updateStrategy: str(field(object, 'spec', 'updateStrategy', 'type')) ?? 'RollingUpdate',
        lastRestartedAt: templateRestartedAt ?? null,
      };
    case 'Rollout':
      return {
        ...base,
        paused: rolloutPaused(object),
        rolling: unobserved ?? rolloutRolling(object),
        updateStrategy: field(object, 'spec', 'strategy', 'blueGreen') !== undefined ? 'BlueGreen' : 'Canary',
        // The request (`spec.restartAt`) and the controller's record of the last one it carried out.
        lastRestartedAt: later(timestamp(field(object, 'spec', 'restartAt')), timestamp(field(object, 'status', 'restartedAt'))),
      };
  }
}
