/** A tbot agent pod as the sweep reports it (tbot 18.5.0, Ready), for the agent tests. */
import type { AgentPod } from '../../src/core/judgement/agents.js';

export const agentPod = (name: string, node: string, extra: Partial<AgentPod> = {}): AgentPod => ({
  namespace: 'teleport-system',
  name,
  uid: `uid-${name}`,
  node,
  image: 'tbot:18.5.0',
  version: '18.5.0',
  ready: true,
  terminating: false,
  createdAt: '2026-11-29T00:00:00Z',
  ...extra,
});
