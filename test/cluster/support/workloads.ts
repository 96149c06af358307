/**
 * Workloads for the real-cluster tier, created as admin and run by the real controllers
 * (ReplicaSets, StatefulSet, DaemonSet, Job pods come from kube-controller-manager; kwok makes
 * them Running on its node), then each pod's Envoy is scripted with `sidecarSecrets`.
 * Not a test file.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { sidecarSecrets, type MeshPki, type SidecarCertificate } from '../../../src/sandbox/emulator/sidecar-secrets.js';
import { answersFromResponses, createServiceAccount, isStatus, podTemplate, runningPods, scriptPod, waitFor, type Admin, type ClusterEnv, type PodShape, type ScriptedAnswers } from './kit.js';

export const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;

/** What each pod's Envoy answers: a scripted certificate, or raw answers (failures, warming). */
export type Envoy = { readonly cert: Omit<SidecarCertificate, 'namespace' | 'serviceAccount'> } | { readonly answers: ScriptedAnswers };

export interface WorkloadSpec {
  readonly namespace: string;
  readonly name: string;
  readonly replicas?: number;
  readonly shape?: Omit<PodShape, 'serviceAccount'>;
  /** Service account (and SPIFFE identity); default: the workload name. */
  readonly serviceAccount?: string;
  /** Envoy of every pod; omit for pods that are never sampled (not injected, not Running). */
  readonly envoy?: Envoy;
  readonly annotations?: Record<string, string>;
}

export interface Built {
  readonly pods: V1Pod[];
  /** Leaf serial per pod name (scripted certificates only). */
  readonly serials: Map<string, string>;
}

export class Workloads {
  constructor(
    private readonly admin: Admin,
    private readonly env: ClusterEnv,
    private readonly pki: MeshPki,
  ) {}

  async deployment(spec: WorkloadSpec): Promise<Built> {
    const replicas = spec.replicas ?? 1;
    await this.prepare(spec);
    await this.admin.apps.createNamespacedDeployment({
      namespace: spec.namespace,
      body: {
        metadata: { name: spec.name, annotations: spec.annotations ?? {} },
        spec: {
          replicas,
          selector: { matchLabels: { app: spec.name } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: podTemplate(spec.name, this.shape(spec)),
        },
      },
    });
    return this.finish(spec, replicas);
  }

  async statefulSet(spec: WorkloadSpec): Promise<Built> {
    const replicas = spec.replicas ?? 1;
    await this.prepare(spec);
    await this.admin.apps.createNamespacedStatefulSet({
      namespace: spec.namespace,
      body: {
        metadata: { name: spec.name, annotations: spec.annotations ?? {} },
        spec: {
          replicas,
          serviceName: spec.name,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app: spec.name } },
          template: podTemplate(spec.name, this.shape(spec)),
        },
      },
    });
    return this.finish(spec, replicas);
  }

  /** One pod on the one kwok node (the template names it: no scheduler in this cluster). */
  async daemonSet(spec: WorkloadSpec): Promise<Built> {
    await this.prepare(spec);
    await this.admin.apps.createNamespacedDaemonSet({
      namespace: spec.namespace,
      body: {
        metadata: { name: spec.name, annotations: spec.annotations ?? {} },
        spec: { selector: { matchLabels: { app: spec.name } }, template: podTemplate(spec.name, this.shape(spec)) },
      },
    });
    return this.finish(spec, 1);
  }

  /**
   * A suspended CronJob and a Job it owns (as the CronJob controller would create it on
   * schedule): the Job controller makes the pod, whose owner chain is Pod → Job → CronJob.
   */
  async cronJob(spec: WorkloadSpec): Promise<Built> {
    await this.prepare(spec);
    const template = podTemplate(spec.name, this.shape(spec));
    const jobTemplate = { metadata: template.metadata, spec: { ...template.spec, restartPolicy: 'Never' } };
    const cron = await this.admin.batch.createNamespacedCronJob({
      namespace: spec.namespace,
      body: {
        metadata: { name: spec.name },
        spec: { schedule: '0 0 1 1 *', suspend: true, jobTemplate: { spec: { template: jobTemplate } } },
      },
    });
    await this.admin.batch.createNamespacedJob({
      namespace: spec.namespace,
      body: {
        metadata: {
          name: `${spec.name}-29000000`,
          ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: spec.name, uid: cron.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: { backoffLimit: 0, template: jobTemplate },
      },
    });
    return this.finish(spec, 1);
  }

  /** A pod nobody owns. */
  async barePod(spec: WorkloadSpec): Promise<Built> {
    await this.prepare(spec);
    const template = podTemplate(spec.name, this.shape(spec));
    await this.admin.core.createNamespacedPod({ namespace: spec.namespace, body: { metadata: { name: spec.name, ...template.metadata }, spec: template.spec } });
    return this.finish(spec, 1);
  }

  /**
   * An Argo Rollout: the CRD (schema-less, as far as this test needs) and a Rollout whose status
   * says it is healthy; no Argo controller runs, so its ReplicaSet is created here with the
   * Rollout as controller, and the real ReplicaSet controller makes the pods.
   */
  async rollout(spec: WorkloadSpec): Promise<Built> {
    await ensureRolloutCrd(this.admin);
    await this.prepare(spec);
    const replicas = spec.replicas ?? 1;
    const template = podTemplate(spec.name, this.shape(spec));
    const rollout = (await this.admin.custom.createNamespacedCustomObject({
      ...ROLLOUTS,
      namespace: spec.namespace,
      body: {
        apiVersion: `${ROLLOUTS.group}/${ROLLOUTS.version}`,
        kind: 'Rollout',
        metadata: { name: spec.name },
        spec: { replicas, selector: { matchLabels: { app: spec.name } }, template, strategy: { canary: {} } },
        status: { phase: 'Healthy', replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas, currentPodHash: 'r1', stableRS: 'r1' },
      },
    })) as { metadata: { uid: string } };
    await this.admin.apps.createNamespacedReplicaSet({
      namespace: spec.namespace,
      body: {
        metadata: {
          name: `${spec.name}-r1`,
          labels: { app: spec.name, 'rollouts-pod-template-hash': 'r1' },
          ownerReferences: [{ apiVersion: `${ROLLOUTS.group}/${ROLLOUTS.version}`, kind: 'Rollout', name: spec.name, uid: rollout.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          replicas,
          selector: { matchLabels: { app: spec.name, 'rollouts-pod-template-hash': 'r1' } },
          template: { ...template, metadata: { ...template.metadata, labels: { ...template.metadata.labels, 'rollouts-pod-template-hash': 'r1' } } },
        },
      },
    });
    return this.finish(spec, replicas);
  }

  private shape(spec: WorkloadSpec): PodShape {
    return { ...spec.shape, serviceAccount: spec.serviceAccount ?? spec.name };
  }

  private async prepare(spec: WorkloadSpec): Promise<void> {
    await createServiceAccount(this.admin, spec.namespace, spec.serviceAccount ?? spec.name);
  }

  /** Waits for the controllers and kwok, then scripts every pod's Envoy. */
  private async finish(spec: WorkloadSpec, count: number): Promise<Built> {
    const serials = new Map<string, string>();
    if (!spec.envoy) return { pods: [], serials };
    const pods = await runningPods(this.admin, spec.namespace, spec.name, count);
    for (const pod of pods) serials.set(pod.metadata!.name!, await this.script(spec, pod));
    return { pods, serials };
  }

  /** Scripts one pod's Envoy; returns the leaf serial ('' for raw answers). */
  async script(spec: Pick<WorkloadSpec, 'namespace' | 'name' | 'serviceAccount' | 'envoy'>, pod: V1Pod): Promise<string> {
    const envoy = spec.envoy!;
    const name = pod.metadata!.name!;
    if ('answers' in envoy) {
      await scriptPod(this.admin, this.env, spec.namespace, name, envoy.answers);
      return '';
    }
    const secrets = await sidecarSecrets(this.pki, { ...envoy.cert, namespace: spec.namespace, serviceAccount: spec.serviceAccount ?? spec.name });
    await scriptPod(this.admin, this.env, spec.namespace, name, answersFromResponses(secrets.responses));
    return secrets.serialNumber;
  }
}

let rolloutCrd: Promise<void> | undefined;

/** `rollouts.argoproj.io`, enough of it for get and merge patch. */
export function ensureRolloutCrd(admin: Admin): Promise<void> {
  rolloutCrd ??= (async () => {
    try {
      await admin.crds.createCustomResourceDefinition({
        body: {
          metadata: { name: `${ROLLOUTS.plural}.${ROLLOUTS.group}` },
          spec: {
            group: ROLLOUTS.group,
            scope: 'Namespaced',
            names: { kind: 'Rollout', listKind: 'RolloutList', plural: ROLLOUTS.plural, singular: 'rollout', shortNames: ['ro'] },
            versions: [{ name: ROLLOUTS.version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
          },
        },
      });
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
    await waitFor('the Rollout CRD is established', async () => {
      const crd = await admin.crds.readCustomResourceDefinition({ name: `${ROLLOUTS.plural}.${ROLLOUTS.group}` });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    });
  })();
  return rolloutCrd;
}
