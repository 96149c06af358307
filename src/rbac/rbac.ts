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
 * Node-aware remediation (restart a node's tbot agent): a Role in each tbot namespace, never a
 * ClusterRole, lets the remediator list the agent pods, get their DaemonSet and delete an agent
 * pod there and nowhere else (`TBOT_NAMESPACE_ACCESS`).
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

/** What the remediator may do in a tbot namespace only (Role + RoleBinding there). */
export const TBOT_NAMESPACE_ACCESS: readonly Access[] = [
  { group: '', resource: 'pods', verbs: ['get', 'list', 'delete'] },
  { group: 'apps', resource: 'daemonsets', verbs: ['get'] },
];

/** Name of the remediator's Role (and RoleBinding) in each tbot namespace. */
export const TBOT_ROLE_NAME = 'mesh-cert-watch-remediator-tbot-agents';

export interface RbacOptions {
  /** Grant the remediator `delete` on pods (bare pod deletion, opted in per pod/namespace). Default false. */
  readonly deleteBarePods?: boolean;
  /**
   * Namespaces where tbot agents run: the remediator gets a Role there to restart agents
   * (node-aware remediation). Default `["teleport-system"]`; `[]` grants none.
   */
  readonly tbotNamespaces?: readonly string[];
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

function mergeRules(accesses: readonly Access[]): PolicyRule[] {
  const merged = new Map<string, { group: string; resource: string; verbs: string[] }>();
  for (const access of accesses) {
    const key = `${access.group}/${access.resource}`;
    const rule = merged.get(key) ?? { group: access.group, resource: access.resource, verbs: [] };
    for (const verb of access.verbs) if (!rule.verbs.includes(verb)) rule.verbs.push(verb);
    merged.set(key, rule);
  }
  return [...merged.values()].map((rule) => ({ apiGroups: [rule.group], resources: [rule.resource], verbs: rule.verbs }));
}

/** The rules of the remediator's Role in a tbot namespace. */
export function tbotRoleRules(): PolicyRule[] {
  return mergeRules(TBOT_NAMESPACE_ACCESS);
}

export interface RoleObject {
  readonly apiVersion: 'rbac.authorization.k8s.io/v1';
  readonly kind: 'Role';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly rules: readonly PolicyRule[];
}

export interface RoleBindingObject {
  readonly apiVersion: 'rbac.authorization.k8s.io/v1';
  readonly kind: 'RoleBinding';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly roleRef: { readonly apiGroup: 'rbac.authorization.k8s.io'; readonly kind: 'Role'; readonly name: string };
  readonly subjects: readonly { readonly apiGroup: 'rbac.authorization.k8s.io'; readonly kind: 'Group'; readonly name: string }[];
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

export type RbacObject = ClusterRoleObject | ClusterRoleBindingObject | RoleObject | RoleBindingObject;

/** The default tbot namespace list (`teleport-system`). */
export const DEFAULT_TBOT_NAMESPACES: readonly string[] = ['teleport-system'];

/**
 * ClusterRole and ClusterRoleBinding of both components (sampler first, then remediator), then
 * the remediator's Role and RoleBinding in each tbot namespace.
 */
export function rbacObjects(options: RbacOptions = {}): RbacObject[] {
  const clusterWide = (['sampler', 'remediator'] as const).flatMap((component) => {
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
  const namespaces = [...new Set(options.tbotNamespaces ?? DEFAULT_TBOT_NAMESPACES)];
  const namespaced = namespaces.flatMap((namespace): RbacObject[] => {
    const metadata = { name: TBOT_ROLE_NAME, namespace, labels: { ...LABELS, 'app.kubernetes.io/component': 'remediator' } };
    return [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: tbotRoleRules() },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: TBOT_ROLE_NAME },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: KUBERNETES_GROUPS.remediator }],
      },
    ];
  });
  return [...clusterWide, ...namespaced];
}

/** Multi-document YAML for `kubectl apply -f -`. */
export function rbacYaml(options: RbacOptions = {}): string {
  const namespaces = [...new Set(options.tbotNamespaces ?? DEFAULT_TBOT_NAMESPACES)];
  const agents = namespaces.length > 0 ? ` (remediator may restart tbot agents in ${namespaces.join(', ')})` : '';
  const header = `# mesh-cert-watch RBAC${options.deleteBarePods ? ' (remediator may delete opted-in bare pods)' : ''}${agents}. Generated by "mesh-cert-watch rbac".\n`;
  return header + rbacObjects(options).map((object) => `---\n${dumpYaml(object)}`).join('');
}

/** Whether `rules` allow `verb` on `group`/`resource` (exact matches, as these rules use no wildcards). */
export function rulesAllow(rules: readonly PolicyRule[], request: { group: string; resource: string; verb: string }): boolean {
  return rules.some((rule) => rule.apiGroups.includes(request.group) && rule.resources.includes(request.resource) && rule.verbs.includes(request.verb));
}
