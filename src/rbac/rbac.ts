/**
 * The Kubernetes RBAC of the two Lambda roles, from one source: `API_ACCESS` lists every API
 * call each component's code makes, and both ClusterRoles (+ bindings to the groups the EKS
 * access entries map the roles to) are generated from it. `mesh-cert-watch rbac` prints them.
 *
 * Sampler: list pods (pod-discovery), exec into istio-proxy (`create` on pods/exec for the
 * WebSocket exec of Kubernetes >= 1.31, `get` for older API servers), and get ReplicaSets and
 * Jobs to find a pod's top controller (owners.ts). It never writes anything.
 * Remediator: get the event's pod, its ReplicaSet and namespace (policy annotation), get and
 * patch the four controllers it can roll; `delete` on pods only when bare pod deletion is
 * enabled (`deleteBarePods`), generated with `{ deleteBarePods: true }`.
 */
import { dumpYaml } from '@kubernetes/client-node';
import { KUBERNETES_GROUPS } from '../config/kubernetes.js';

export { KUBERNETES_GROUPS } from '../config/kubernetes.js';

export type Component = keyof typeof KUBERNETES_GROUPS;

export const CLUSTER_ROLE_NAMES: Readonly<Record<Component, string>> = {
  sampler: 'mesh-cert-watch-sampler',
  remediator: 'mesh-cert-watch-remediator',
};

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

interface Access {
  readonly group: string;
  readonly resource: string;
  readonly verbs: readonly string[];
  /** Only granted when this option is on. */
  readonly when?: 'deleteBarePods';
}

/** Every API call of each component, one line per resource. */
export const API_ACCESS: Readonly<Record<Component, readonly Access[]>> = {
  sampler: [
    { group: '', resource: 'pods', verbs: ['get', 'list'] },
    { group: '', resource: 'pods/exec', verbs: ['get', 'create'] },
    { group: 'apps', resource: 'replicasets', verbs: ['get'] },
    { group: 'batch', resource: 'jobs', verbs: ['get'] },
  ],
  remediator: [
    { group: '', resource: 'pods', verbs: ['get'] },
    { group: '', resource: 'pods', verbs: ['delete'], when: 'deleteBarePods' },
    { group: '', resource: 'namespaces', verbs: ['get'] },
    { group: 'apps', resource: 'replicasets', verbs: ['get'] },
    { group: 'apps', resource: 'deployments', verbs: ['get', 'patch'] },
    { group: 'apps', resource: 'statefulsets', verbs: ['get', 'patch'] },
    { group: 'apps', resource: 'daemonsets', verbs: ['get', 'patch'] },
    { group: 'argoproj.io', resource: 'rollouts', verbs: ['get', 'patch'] },
  ],
};

export interface RbacOptions {
  /** Grant the remediator `delete` on pods (bare pod deletion, opted in per pod/namespace). Default false. */
  readonly deleteBarePods?: boolean;
}

/** The rules of one component: one rule per (group, resource), verbs merged, in API_ACCESS order. */
export function rbacRules(component: Component, options: RbacOptions = {}): PolicyRule[] {
  const merged = new Map<string, { group: string; resource: string; verbs: string[] }>();
  for (const access of API_ACCESS[component]) {
    if (access.when === 'deleteBarePods' && !options.deleteBarePods) continue;
    const key = `${access.group}/${access.resource}`;
    const rule = merged.get(key) ?? { group: access.group, resource: access.resource, verbs: [] };
    for (const verb of access.verbs) if (!rule.verbs.includes(verb)) rule.verbs.push(verb);
    merged.set(key, rule);
  }
  return [...merged.values()].map((rule) => ({ apiGroups: [rule.group], resources: [rule.resource], verbs: rule.verbs }));
}

export interface ClusterRoleObject {
  readonly apiVersion: 'rbac.authorization.k8s.io/v1';
  readonly kind: 'ClusterRole';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly rules: readonly PolicyRule[];
}

export interface ClusterRoleBindingObject {
  readonly apiVersion: 'rbac.authorization.k8s.io/v1';
  readonly kind: 'ClusterRoleBinding';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly roleRef: { readonly apiGroup: 'rbac.authorization.k8s.io'; readonly kind: 'ClusterRole'; readonly name: string };
  readonly subjects: readonly { readonly apiGroup: 'rbac.authorization.k8s.io'; readonly kind: 'Group'; readonly name: string }[];
}

const LABELS = { 'app.kubernetes.io/name': 'mesh-cert-watch', 'app.kubernetes.io/managed-by': 'mesh-cert-watch' } as const;

/** ClusterRole and ClusterRoleBinding of both components: sampler first, then remediator. */
export function rbacObjects(options: RbacOptions = {}): (ClusterRoleObject | ClusterRoleBindingObject)[] {
  return (['sampler', 'remediator'] as const).flatMap((component) => {
    const name = CLUSTER_ROLE_NAMES[component];
    const metadata = { name, labels: { ...LABELS, 'app.kubernetes.io/component': component } };
    const role: ClusterRoleObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata, rules: rbacRules(component, options) };
    const binding: ClusterRoleBindingObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: KUBERNETES_GROUPS[component] }],
    };
    return [role, binding];
  });
}

/** Multi-document YAML for `kubectl apply -f -`. */
export function rbacYaml(options: RbacOptions = {}): string {
  const header = `# mesh-cert-watch RBAC${options.deleteBarePods ? ' (remediator may delete opted-in bare pods)' : ''}. Generated by "mesh-cert-watch rbac".\n`;
  return header + rbacObjects(options).map((object) => `---\n${dumpYaml(object)}`).join('');
}

/** Whether `rules` allow `verb` on `group`/`resource` (exact matches, as these rules use no wildcards). */
export function rulesAllow(rules: readonly PolicyRule[], request: { group: string; resource: string; verb: string }): boolean {
  return rules.some((rule) => rule.apiGroups.includes(request.group) && rule.resources.includes(request.resource) && rule.verbs.includes(request.verb));
}
