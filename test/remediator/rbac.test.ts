/**
 * RBAC: the exact rules of both ClusterRoles, the YAML `mesh-cert-watch rbac` prints, and proof
 * against the emulator (its authorizer fed with these very rules) that each component can do
 * its job with them and nothing of the other's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig, loadAllYaml } from '@kubernetes/client-node';
import { main, type CliIo } from '../../src/cli/main.js';
import { KUBERNETES_GROUPS } from '../../src/config/kubernetes.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import { InMemoryRestartGuard } from '../../src/cli/memory-restart-guard.js';
import { runSweep } from '../../src/core/judgement/sweep.js';
import { startKubeApiEmulator, type AuthorizationRequest, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { kubeSweepSource } from '../../src/kube/kube-sweep.js';
import {
  fenceObjects,
  rbacObjects,
  rbacRules,
  rbacYaml,
  rulesAllow,
  SAMPLER_EXEC_COMMANDS,
  tbotRoleRules,
  type AdmissionPolicyObject,
  type ClusterRoleBindingObject,
  type ClusterRoleObject,
  type RbacOptions,
  type RoleBindingObject,
  type RoleObject,
} from '../../src/rbac/rbac.js';
import { ACTIVE_SECRETS_COMMAND, WARMING_SECRETS_COMMAND } from '../../src/kube/envoy-sampler.js';
import { remediate } from '../../src/remediator/remediate.js';
import { remediateEvent } from '../../src/remediator/remediate-event.js';
import type { Finding } from '../../src/core/model/types.js';
import { NOW, POLICY, triggerFor } from './kit.js';

const SAMPLER_RULES = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
];

const REMEDIATOR_RULES = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
  { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'patch'] },
  { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'patch'] },
  { apiGroups: ['argoproj.io'], resources: ['rollouts'], verbs: ['get', 'patch'] },
];

describe('ClusterRole rules', () => {
  it('sampler: get/list pods, get/create pods/exec, get replicasets and jobs (owner resolution); nothing else', () => {
    expect(rbacRules('sampler')).toEqual(SAMPLER_RULES);
    expect(rbacRules('sampler', { deleteBarePods: true })).toEqual(SAMPLER_RULES);
  });

  it('remediator: get pods, namespaces, replicasets; get/patch the four controllers; nothing else', () => {
    expect(rbacRules('remediator')).toEqual(REMEDIATOR_RULES);
  });

  it('remediator with bare pod deletion: delete on pods is the only addition', () => {
    const [pods, ...rest] = REMEDIATOR_RULES;
    expect(rbacRules('remediator', { deleteBarePods: true })).toEqual([{ ...pods!, verbs: ['get', 'delete'] }, ...rest]);
  });

  it('binds each ClusterRole to its Kubernetes group from src/config', () => {
    const bindings = rbacObjects().filter((o): o is ClusterRoleBindingObject => o.kind === 'ClusterRoleBinding');
    expect(bindings.map((b) => [b.metadata.name, b.roleRef.name, b.subjects])).toEqual([
      ['mesh-cert-watch-sampler', 'mesh-cert-watch-sampler', [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'mesh-cert-watch:sampler' }]],
      ['mesh-cert-watch-remediator', 'mesh-cert-watch-remediator', [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'mesh-cert-watch:remediator' }]],
    ]);
    expect(bindings.map((b) => b.subjects[0]!.name)).toEqual([KUBERNETES_GROUPS.sampler, KUBERNETES_GROUPS.remediator]);
  });
});

describe('tbot namespace Role', () => {
  it('lets the remediator list, get and delete pods and get daemonsets in each tbot namespace only: a Role, not a ClusterRole', () => {
    expect(tbotRoleRules()).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'delete'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get'] },
    ]);
    const objects = rbacObjects({ tbotNamespaces: ['teleport-system', 'tbot-b'] });
    const namespaced = objects.filter((o): o is RoleObject | RoleBindingObject => o.kind === 'Role' || o.kind === 'RoleBinding');
    expect(namespaced.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'Role teleport-system/mesh-cert-watch-remediator-tbot-agents',
      'RoleBinding teleport-system/mesh-cert-watch-remediator-tbot-agents',
      'Role tbot-b/mesh-cert-watch-remediator-tbot-agents',
      'RoleBinding tbot-b/mesh-cert-watch-remediator-tbot-agents',
    ]);
    const binding = namespaced.find((o): o is RoleBindingObject => o.kind === 'RoleBinding')!;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'mesh-cert-watch-remediator-tbot-agents' });
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: KUBERNETES_GROUPS.remediator }]);
    // The ClusterRole itself gains nothing: pods stay get-only cluster-wide.
    expect(rbacRules('remediator')).toEqual(REMEDIATOR_RULES);
    expect(rbacObjects({ tbotNamespaces: [] }).map((o) => o.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ClusterRole', 'ClusterRoleBinding']);
  });

  it('follows `rbac --tbot-namespace`', async () => {
    const out: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(`ERR ${t}`), readStdin: async () => '' };
    expect(await main(['rbac', '--tbot-namespace', 'spire-agents'], io)).toBe(0);
    expect(out.join('')).toBe(rbacYaml({ tbotNamespaces: ['spire-agents'] }));
    expect(out.join('')).toContain('namespace: spire-agents');
    out.length = 0;
    expect(await main(['rbac', '--tbot-namespace', 'Not_A_Namespace'], io)).toBe(2);
  });
});

describe('rbac YAML', () => {
  it.each([{}, { deleteBarePods: true }])('round-trips through client-node loadAllYaml (%j), the fence after the roles', (options: RbacOptions) => {
    const loaded = loadAllYaml(rbacYaml(options));
    expect(JSON.parse(JSON.stringify(loaded))).toEqual([...rbacObjects(options), ...fenceObjects()]);
    expect(loaded.map((o: { kind: string }) => o.kind)).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      ...Array(5).fill(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']).flat(),
    ]);
    expect(JSON.parse(JSON.stringify(loadAllYaml(rbacYaml({ ...options, fence: false }))))).toEqual(rbacObjects(options));
  });

  it('is what `mesh-cert-watch rbac` prints, with exit 0', async () => {
    const out: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(`ERR ${t}`), readStdin: async () => '' };
    expect(await main(['rbac'], io)).toBe(0);
    expect(out.join('')).toBe(rbacYaml());
    out.length = 0;
    expect(await main(['rbac', '--delete-bare-pods'], io)).toBe(0);
    expect(out.join('')).toBe(rbacYaml({ deleteBarePods: true }));
    expect(out.join('')).toContain('- delete');
    out.length = 0;
    expect(await main(['rbac', '--no-fence'], io)).toBe(0);
    expect(out.join('')).toBe(rbacYaml({ fence: false }));
  });
});

describe('the exec and patch fence (ValidatingAdmissionPolicies)', () => {
  const policies = fenceObjects().filter((o): o is AdmissionPolicyObject => o.kind === 'ValidatingAdmissionPolicy');
  const policy = (name: string) => policies.find((p) => p.metadata.name === name)!;

  it('allows exactly the commands the sampler runs, in istio-proxy, without stdin or tty, for the sampler group only', () => {
    expect(SAMPLER_EXEC_COMMANDS).toEqual([ACTIVE_SECRETS_COMMAND, WARMING_SECRETS_COMMAND]);
    const exec = policy('mesh-cert-watch-sampler-exec');
    expect(exec.spec.matchConstraints.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CONNECT'], resources: ['pods/exec'] }]);
    expect(exec.spec.matchConditions).toEqual([{ name: 'only-sampler', expression: "'mesh-cert-watch:sampler' in request.userInfo.groups" }]);
    expect(exec.spec.failurePolicy).toBe('Fail');
    expect(exec.spec.validations.map((v) => v.expression)).toEqual([
      "has(object.container) && object.container == 'istio-proxy'",
      "has(object.command) && (object.command == ['pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_active_secrets'] || object.command == ['pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_warming_secrets'])",
      '!has(object.stdin) || !object.stdin',
      '!has(object.tty) || !object.tty',
    ]);
    expect(exec.spec.validations.every((v) => v.reason === 'Forbidden')).toBe(true);
  });

  it('lets the remediator group change only the restart annotation of each kind (Rollouts: spec.restartAt)', () => {
    expect(policies.map((p) => [p.metadata.name, p.spec.matchConstraints.resourceRules[0]!.apiGroups[0], p.spec.matchConstraints.resourceRules[0]!.resources[0], p.spec.matchConstraints.resourceRules[0]!.operations])).toEqual([
      ['mesh-cert-watch-sampler-exec', '', 'pods/exec', ['CONNECT']],
      ['mesh-cert-watch-remediator-deployments-restart-only', 'apps', 'deployments', ['UPDATE']],
      ['mesh-cert-watch-remediator-statefulsets-restart-only', 'apps', 'statefulsets', ['UPDATE']],
      ['mesh-cert-watch-remediator-daemonsets-restart-only', 'apps', 'daemonsets', ['UPDATE']],
      ['mesh-cert-watch-remediator-rollouts-restart-only', 'argoproj.io', 'rollouts', ['UPDATE']],
    ]);
    const deployments = policy('mesh-cert-watch-remediator-deployments-restart-only');
    expect(deployments.spec.matchConditions).toEqual([{ name: 'only-remediator', expression: "'mesh-cert-watch:remediator' in request.userInfo.groups" }]);
    const expressions = deployments.spec.validations.map((v) => v.expression).join('\n');
    expect(expressions).toContain('object.spec.template.spec == oldObject.spec.template.spec');
    expect(expressions).toContain("k == 'kubectl.kubernetes.io/restartedAt'");
    expect(expressions).toContain('has(object.spec.replicas) ? (has(oldObject.spec.replicas) && object.spec.replicas == oldObject.spec.replicas) : !has(oldObject.spec.replicas)');
    const rollouts = policy('mesh-cert-watch-remediator-rollouts-restart-only').spec.validations.map((v) => v.expression).join('\n');
    expect(rollouts).not.toContain('restartAt');
    expect(rollouts).toContain('object.spec.template == oldObject.spec.template');
    // DELETE (the bare-pod and tbot-namespace deletes) is RBAC's alone.
    expect(policies.every((p) => p.spec.matchConstraints.resourceRules.every((r) => !r.operations.includes('DELETE')))).toBe(true);
    expect(fenceObjects({ rollouts: false }).map((o) => o.metadata.name)).not.toContain('mesh-cert-watch-remediator-rollouts-restart-only');
  });
});

describe('enforced by the emulator with exactly these rules', () => {
  const TOKENS: Record<string, { username: string; groups: string[] }> = {
    'sampler-token': { username: 'arn:aws:sts::111122223333:assumed-role/sampler/x', groups: [KUBERNETES_GROUPS.sampler, 'system:authenticated'] },
    'remediator-token': { username: 'arn:aws:sts::111122223333:assumed-role/remediator/x', groups: [KUBERNETES_GROUPS.remediator, 'system:authenticated'] },
  };
  let emulator: KubeApiEmulator;
  let mesh: Mesh;
  let rbacOptions: RbacOptions = {};
  const denied: AuthorizationRequest[] = [];

  /**
   * The RBAC authorizer's decision for these objects: any bound ClusterRole rule allows it, or a
   * Role rule bound in the request's own namespace.
   */
  function authorize(request: AuthorizationRequest): boolean {
    const objects = rbacObjects(rbacOptions);
    const roles = new Map(objects.filter((o): o is ClusterRoleObject => o.kind === 'ClusterRole').map((r) => [r.metadata.name, r]));
    const namespacedRoles = new Map(objects.filter((o): o is RoleObject => o.kind === 'Role').map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r]));
    const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
    const asked = { group: request.group, resource, verb: request.verb };
    const clusterWide = objects
      .filter((o): o is ClusterRoleBindingObject => o.kind === 'ClusterRoleBinding')
      .filter((b) => b.subjects.some((s) => request.user.groups.includes(s.name)))
      .some((b) => rulesAllow(roles.get(b.roleRef.name)!.rules, asked));
    const inNamespace =
      request.namespace !== undefined &&
      objects
        .filter((o): o is RoleBindingObject => o.kind === 'RoleBinding' && o.metadata.namespace === request.namespace)
        .filter((b) => b.subjects.some((s) => request.user.groups.includes(s.name)))
        .some((b) => rulesAllow(namespacedRoles.get(`${b.metadata.namespace}/${b.roleRef.name}`)!.rules, asked));
    const allowed = clusterWide || inNamespace;
    if (!allowed) denied.push(request);
    return allowed;
  }

  const clientFor = (token: string): KubeClient => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'e', server: emulator.url, caData: Buffer.from(emulator.caCertificatePem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token }],
      contexts: [{ name: 'e', cluster: 'e', user: 'u' }],
      currentContext: 'e',
    });
    return new KubeClient(kc, { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  };

  beforeAll(async () => {
    emulator = await startKubeApiEmulator({ validateToken: (token) => TOKENS[token], authorize });
    mesh = new Mesh(emulator);
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('lets the sampler list, exec and resolve owners (ReplicaSet and Job) with no denial', async () => {
    mesh.addDeployment('rbac-sweep', 'carts');
    mesh.addCronJob('rbac-sweep', 'report');
    denied.length = 0;
    const report = await runSweep(kubeSweepSource(clientFor('sampler-token'), { namespaces: ['rbac-sweep'] }), {
      cluster: 'c',
      sweepId: 's',
      thresholds: DEFAULT_THRESHOLDS,
      concurrency: 2,
    });
    expect(denied).toEqual([]);
    expect(report.pods.map((p) => p.workload?.kind).sort()).toEqual(['CronJob', 'Deployment']);
    expect(emulator.execs.length).toBeGreaterThanOrEqual(2);
  });

  it('lets the remediator restart each controller kind with no denial', async () => {
    const pods = [
      mesh.addDeployment('rbac-fix', 'carts').pods[0]!,
      mesh.addStatefulSet('rbac-fix', 'ledger').pods[0]!,
      mesh.addDaemonSet('rbac-fix', 'agent').pods[0]!,
      mesh.addRollout('rbac-fix', 'checkout').pods[0]!,
    ];
    denied.length = 0;
    const guard = new InMemoryRestartGuard();
    const kube = clientFor('remediator-token');
    const details = [];
    for (const pod of pods) details.push(await remediate(triggerFor(pod), { kube, guard, policy: POLICY, clock: () => NOW }));
    expect(details.map((d) => `${d.workload.kind}:${d.outcome}`)).toEqual(['Deployment:restarted', 'StatefulSet:restarted', 'DaemonSet:restarted', 'Rollout:restarted']);
    expect(denied).toEqual([]);
  });

  it('lets the remediator delete an opted-in bare pod only with the deleteBarePods rules', async () => {
    const policy = { ...POLICY, deleteBarePods: true };
    const first = mesh.addBarePod('rbac-bare', 'runner-1', { podAnnotations: { 'mesh-cert-watch.io/policy': 'restart' } }).pods[0]!;
    const second = mesh.addBarePod('rbac-bare', 'runner-2', { podAnnotations: { 'mesh-cert-watch.io/policy': 'restart' } }).pods[0]!;
    const kube = clientFor('remediator-token');
    rbacOptions = {};
    const refused = await remediate(triggerFor(first), { kube, guard: new InMemoryRestartGuard(), policy, clock: () => NOW });
    rbacOptions = { deleteBarePods: true };
    const deleted = await remediate(triggerFor(second), { kube, guard: new InMemoryRestartGuard(), policy, clock: () => NOW });
    rbacOptions = {};
    expect(refused).toMatchObject({ outcome: 'failed', statusCode: 403 });
    expect(deleted).toMatchObject({ outcome: 'restarted', action: 'delete-pod' });
  });

  it('keeps each component out of the other one\'s work', async () => {
    const pod = mesh.addDeployment('rbac-cross', 'carts').pods[0]!;
    denied.length = 0;
    const asSampler = await remediate(triggerFor(pod), { kube: clientFor('sampler-token'), guard: new InMemoryRestartGuard(), policy: POLICY, clock: () => NOW });
    expect(asSampler).toMatchObject({ outcome: 'failed', statusCode: 403 });
    const remediator = clientFor('remediator-token');
    await expect(remediator.call('list pods', () => remediator.core.listNamespacedPod({ namespace: 'rbac-cross' }))).rejects.toMatchObject({ statusCode: 403 });
    expect(denied.map((d) => `${d.user.groups[0]} ${d.verb} ${d.resource}`)).toEqual([
      'mesh-cert-watch:sampler get namespaces',
      'mesh-cert-watch:remediator list pods',
    ]);
  });

  it('lets the remediator restart a tbot agent in the tbot namespace and delete no pod anywhere else', async () => {
    const fleetMesh = new Mesh(emulator, { nodeCount: 2 });
    const agents = fleetMesh.addTbotAgents({ defaultVersion: '18.5.0' }).pods;
    const app = fleetMesh.addDeployment('rbac-agents', 'orders').pods[0]!;
    const node = String(app.spec?.nodeName);
    const agent = agents.find((a) => a.spec?.nodeName === node)!;
    const policy = { ...POLICY, breakerUnhealthyShare: 1 };
    const trigger = { ...triggerFor(app), node, findings: ['sds-push-without-rotation', 'tbot-outdated'] as Finding[], agent: { pod: agent.metadata.name, version: '18.5.0' } };
    denied.length = 0;
    const kube = clientFor('remediator-token');
    const outcome = await remediateEvent(trigger, { kube, guard: new InMemoryRestartGuard(), policy, clock: () => NOW, tbotAgents: { namespace: 'teleport-system', labelSelector: 'app=tbot' } });
    expect(outcome).toMatchObject({ detailType: 'Agent Restart', detail: { outcome: 'restarted', agentPod: agent.metadata.name } });
    expect(emulator.get('Pod', 'teleport-system', agent.metadata.name)).toBeUndefined();
    expect(denied).toEqual([]);
    // The same verb on an application pod, or listing pods outside the tbot namespace: refused.
    await expect(kube.call('delete pod', () => kube.core.deleteNamespacedPod({ namespace: 'rbac-agents', name: app.metadata.name }))).rejects.toMatchObject({ statusCode: 403 });
    await expect(kube.call('list pods', () => kube.core.listNamespacedPod({ namespace: 'rbac-agents' }))).rejects.toMatchObject({ statusCode: 403 });
    expect(emulator.get('Pod', 'rbac-agents', app.metadata.name)).toBeDefined();
  });
});
