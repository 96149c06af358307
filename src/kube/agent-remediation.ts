/**
 * The remediator's Kubernetes calls for an agent restart, all in the tbot namespace (a Role there,
 * never a ClusterRole): list the agent pods (readiness of every agent, the one on the node),
 * get the DaemonSet that owns them (rollout in progress, policy annotation), and delete the
 * node's agent pod with a uid precondition (so a replacement of the same name is never hit).
 * The namespace's policy annotation is read with the cluster-wide `get namespaces` the
 * remediator already has.
 */
import type { AgentObservation } from '../core/remediation/agent-remediation.js';
import type { AgentPod, TbotAgentSelector } from '../core/judgement/agents.js';
import { POLICY_ANNOTATION, workloadFacts } from '../core/remediation/workload-facts.js';
import type { KubeClient } from './kube-client.js';
import { listAgentPods, toAgentPod } from './tbot-agents.js';

/** Everything `decideAgent` needs about the agents, fresh from the API server. */
export async function observeAgents(client: KubeClient, selector: TbotAgentSelector, node: string): Promise<AgentObservation> {
  const [pods, namespaceObject] = await Promise.all([
    listAgentPods(client, selector),
    client.callOrUndefined(`get namespace ${selector.namespace}`, () => client.core.readNamespace({ name: selector.namespace })),
  ]);
  const agents = pods.map(toAgentPod);
  const onNode = pods.find((p) => p.spec?.nodeName === node);
  const owner = onNode?.metadata?.ownerReferences?.find((o) => o.controller === true && o.kind === 'DaemonSet');
  let daemonSet: AgentObservation['daemonSet'] = null;
  if (owner) {
    const object = await client.callOrUndefined(`get daemonset ${selector.namespace}/${owner.name}`, () =>
      client.apps.readNamespacedDaemonSet({ namespace: selector.namespace, name: owner.name }),
    );
    if (object) {
      const facts = workloadFacts('DaemonSet', owner.name, object);
      daemonSet = { name: owner.name, policyAnnotation: facts.policyAnnotation, rolling: imageRollout(object) };
    }
  }
  return { agents, daemonSet, namespacePolicy: namespaceObject?.metadata?.annotations?.[POLICY_ANNOTATION] };
}

/**
 * Why the DaemonSet is rolling out a new template (an upgrade), or null. Unavailable agents alone
 * are not a rollout: `decideAgent` judges their readiness itself (agent-not-ready).
 */
function imageRollout(object: { metadata?: { generation?: number }; status?: { observedGeneration?: number; desiredNumberScheduled?: number; updatedNumberScheduled?: number } }): string | null {
  const generation = object.metadata?.generation;
  const observed = object.status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed < generation) return `the controller has observed generation ${observed} of ${generation}`;
  const desired = object.status?.desiredNumberScheduled ?? 0;
  const updated = object.status?.updatedNumberScheduled ?? desired;
  return updated < desired ? `${updated} of ${desired} nodes updated` : null;
}

/** Deletes the agent pod (its DaemonSet recreates it). Throws KubeApiError / ClusterUnreachableError. */
export async function deleteAgentPod(client: KubeClient, agent: AgentPod): Promise<void> {
  await client.call(`delete tbot agent pod ${agent.namespace}/${agent.name}`, () =>
    client.core.deleteNamespacedPod({ namespace: agent.namespace, name: agent.name, body: { preconditions: { uid: agent.uid } } }),
  );
}
