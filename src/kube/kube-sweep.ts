/** Wires the pure sweep to a live cluster through client-node. */
import type { SweepSource } from '../core/judgement/sweep.js';
import { OwnerResolver } from './owners.js';
import { listPods, type ListOptions } from './pod-discovery.js';
import { DEFAULT_SAMPLER_OPTIONS, sampleEnvoySecrets, type SamplerOptions } from './envoy-sampler.js';
import type { KubeClient } from './kube-client.js';
import type { TbotAgentSelector } from '../core/judgement/agents.js';
import { listTbotAgents } from './tbot-agents.js';

export interface KubeSweepSourceOptions extends ListOptions {
  readonly sampler?: SamplerOptions;
  /** Where the tbot agents run; absent = agents are not looked for. */
  readonly tbotAgents?: TbotAgentSelector;
}

/** One source per sweep: its owner cache must not outlive the sweep. */
export function kubeSweepSource(client: KubeClient, options: KubeSweepSourceOptions = {}): SweepSource & { readonly owners: OwnerResolver } {
  const owners = new OwnerResolver(client);
  const sampler = options.sampler ?? DEFAULT_SAMPLER_OPTIONS;
  return {
    owners,
    listPods: () => listPods(client, options),
    sample: (target) => sampleEnvoySecrets(client, target, sampler),
    resolveWorkload: (target) => owners.resolve(target.namespace, target.ownerReferences),
    ...(options.tbotAgents ? { listAgents: () => listTbotAgents(client, options.tbotAgents!, options.pageSize) } : {}),
  };
}
