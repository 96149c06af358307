/**
 * Node-aware remediation's RBAC, judged by a real kube-apiserver: the remediator's Role in the
 * tbot namespace (what `mesh-cert-watch rbac` prints) lets it list the tbot agent pods, read their
 * DaemonSet and delete an agent pod there (the real DaemonSet controller recreates it), and it
 * may delete a pod nowhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_TBOT_AGENTS } from '../../src/core/judgement/agents.js';
import { deleteAgentPod, observeAgents } from '../../src/kube/agent-remediation.js';
import { toAgentPod } from '../../src/kube/tbot-agents.js';
import { TBOT_ROLE_NAME, tbotRoleRules } from '../../src/rbac/rbac.js';
import { admin, applyRbac, canI, clusterEnv, createNamespace, ensureNode, isStatus, mintIdentity, NODE_NAME, waitFor, type Admin, type Identity } from './support/kit.js';

const TBOT_NS = DEFAULT_TBOT_AGENTS.namespace;
const APP_NS = 'mcw-agents-app';

describe('the remediator may restart a tbot agent in the tbot namespace and nowhere else', () => {
  const env = clusterEnv();
  let adminApi: Admin;
  let remediator: Identity;
  let sampler: Identity;

  /** The agent pods of the tbot DaemonSet that kwok reports Ready. */
  const readyAgents = (count: number, except?: string): Promise<V1Pod[]> =>
    waitFor(`${count} Ready tbot agent(s)`, async () => {
      const list = await adminApi.core.listNamespacedPod({ namespace: TBOT_NS, labelSelector: DEFAULT_TBOT_AGENTS.labelSelector });
      const ready = list.items.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.name !== except && toAgentPod(p).ready);
      return ready.length === count ? ready : false;
    });

  beforeAll(async () => {
    adminApi = admin(env);
    await ensureNode(adminApi);
    await applyRbac(adminApi, {});
    [remediator, sampler] = await Promise.all([mintIdentity(env, 'remediator'), mintIdentity(env, 'sampler')]);
    await createNamespace(adminApi, TBOT_NS);
    await createNamespace(adminApi, APP_NS);
    await adminApi.apps.createNamespacedDaemonSet({
      namespace: TBOT_NS,
      body: {
        metadata: { name: 'tbot' },
        spec: {
          selector: { matchLabels: { app: 'tbot' } },
          template: {
            metadata: { labels: { app: 'tbot' } },
            spec: {
              nodeName: NODE_NAME,
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 0,
              containers: [{ name: 'tbot', image: 'public.ecr.aws/gravitational/tbot-distroless:18.5.0' }],
            },
          },
        },
      },
    }).catch((error: unknown) => {
      if (!isStatus(error, 409)) throw error;
    });
    await adminApi.core.createNamespacedPod({
      namespace: APP_NS,
      body: { metadata: { name: 'app', labels: { app: 'tbot' } }, spec: { nodeName: NODE_NAME, automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.example/app:1' }] } },
    }).catch((error: unknown) => {
      if (!isStatus(error, 409)) throw error;
    });
  });

  afterAll(async () => {
    if (adminApi) await applyRbac(adminApi, {});
  });

  it('the API server holds our Role, bound to the remediator group, in the tbot namespace', async () => {
    const role = await adminApi.rbac.readNamespacedRole({ namespace: TBOT_NS, name: TBOT_ROLE_NAME });
    expect(JSON.parse(JSON.stringify(role.rules))).toEqual(tbotRoleRules());
    const binding = await adminApi.rbac.readNamespacedRoleBinding({ namespace: TBOT_NS, name: TBOT_ROLE_NAME });
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: TBOT_ROLE_NAME });
  });

  it('asked directly, the authorizer allows delete pods in the tbot namespace only, and only to the remediator', async () => {
    expect(await canI(remediator, { verb: 'delete', group: '', resource: 'pods', namespace: TBOT_NS })).toBe(true);
    expect(await canI(remediator, { verb: 'list', group: '', resource: 'pods', namespace: TBOT_NS })).toBe(true);
    for (const namespace of [APP_NS, 'default', 'kube-system']) {
      expect({ namespace, allowed: await canI(remediator, { verb: 'delete', group: '', resource: 'pods', namespace }) }).toEqual({ namespace, allowed: false });
    }
    expect(await canI(remediator, { verb: 'delete', group: '', resource: 'pods' })).toBe(false);
    expect(await canI(sampler, { verb: 'delete', group: '', resource: 'pods', namespace: TBOT_NS })).toBe(false);
  });

  it('observes the agents and deletes one; the DaemonSet controller recreates it', async () => {
    const [before] = await readyAgents(1);
    const observation = await observeAgents(remediator.client(), DEFAULT_TBOT_AGENTS, NODE_NAME);
    expect(observation.agents.map((a) => [a.name, a.node, a.version, a.ready])).toEqual([[before!.metadata!.name, NODE_NAME, '18.5.0', true]]);
    expect(observation.daemonSet).toMatchObject({ name: 'tbot' });
    await deleteAgentPod(remediator.client(), toAgentPod(before!));
    const [after] = await readyAgents(1, before!.metadata!.name);
    expect(after!.metadata!.uid).not.toBe(before!.metadata!.uid);
  });

  it('is refused (403) deleting a pod outside the tbot namespace, which stays', async () => {
    const client = remediator.client();
    const app = await adminApi.core.readNamespacedPod({ namespace: APP_NS, name: 'app' });
    await expect(deleteAgentPod(client, toAgentPod(app))).rejects.toMatchObject({ statusCode: 403 });
    await expect(client.call('list pods', () => client.core.listNamespacedPod({ namespace: APP_NS }))).rejects.toMatchObject({ statusCode: 403 });
    expect((await adminApi.core.readNamespacedPod({ namespace: APP_NS, name: 'app' })).metadata?.deletionTimestamp).toBeUndefined();
  });
});
