/**
 * Lists the tbot agent pods (one list call per sweep, paged like the pod list) and reads what the
 * engine needs from each: node, readiness and the version in its image tag.
 */
import type { V1Pod, V1PodList } from '@kubernetes/client-node';
import { imageVersion, type AgentPod, type TbotAgentSelector } from '../core/judgement/agents.js';
import { KubeApiError } from '../core/model/errors.js';
import type { KubeClient } from './kube-client.js';
import { DEFAULT_PAGE_SIZE } from './pod-discovery.js';

/** The tbot container: named `tbot` in Teleport's chart, else the pod's first container. */
export function tbotImage(pod: V1Pod): string | null {
  const containers = pod.spec?.containers ?? [];
  const container = containers.find((c) => c.name === 'tbot') ?? containers[0];
  return container?.image ?? null;
}

function isoOf(value: Date | string | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return value;
}

/** Ready condition True and not terminating. */
export function podIsReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function toAgentPod(pod: V1Pod): AgentPod {
  const image = tbotImage(pod);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    node: pod.spec?.nodeName ?? '',
    image,
    version: imageVersion(image),
    ready: podIsReady(pod),
    terminating: pod.metadata?.deletionTimestamp != null,
    createdAt: isoOf(pod.metadata?.creationTimestamp),
  };
}

/** Every agent pod matching `selector`, page by page (a 410 restarts the list, at most 3 times). */
export async function listAgentPods(client: KubeClient, selector: TbotAgentSelector, pageSize = DEFAULT_PAGE_SIZE): Promise<V1Pod[]> {
  const { namespace, labelSelector } = selector;
  const pods: V1Pod[] = [];
  let token: string | undefined;
  let restarts = 0;
  for (;;) {
    let page: V1PodList;
    try {
      page = await client.call(`list tbot agent pods in namespace ${namespace} (${labelSelector})`, () =>
        client.core.listNamespacedPod({ namespace, labelSelector, limit: pageSize, ...(token ? { _continue: token } : {}) }),
      );
    } catch (error) {
      if (error instanceof KubeApiError && error.statusCode === 410 && restarts < 3) {
        restarts++;
        pods.length = 0;
        token = undefined;
        continue;
      }
      throw error;
    }
    pods.push(...page.items);
    token = page.metadata?._continue || undefined;
    if (!token) return pods;
  }
}

/** The agents as the sweep uses them. */
export async function listTbotAgents(client: KubeClient, selector: TbotAgentSelector, pageSize?: number): Promise<AgentPod[]> {
  return (await listAgentPods(client, selector, pageSize)).map(toAgentPod);
}
