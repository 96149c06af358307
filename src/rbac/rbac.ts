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
import { ACTIVE_SECRETS_COMMAND, WARMING_SECRETS_COMMAND } from '../kube/envoy-sampler.js';

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
  /** `rbacYaml` also prints the exec and patch fence (ValidatingAdmissionPolicies, Kubernetes >= 1.30). Default true. */
  readonly fence?: boolean;
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
  const fence =
    options.fence === false
      ? []
      : [
          '# The exec and patch fence (ValidatingAdmissionPolicy, Kubernetes >= 1.30; older API servers reject these kinds: use --no-fence).\n',
          ...fenceObjects().map((object) => `---\n${dumpYaml(object)}`),
        ];
  return header + rbacObjects(options).map((object) => `---\n${dumpYaml(object)}`).join('') + fence.join('');
}

/** Whether `rules` allow `verb` on `group`/`resource` (exact matches, as these rules use no wildcards). */
export function rulesAllow(rules: readonly PolicyRule[], request: { group: string; resource: string; verb: string }): boolean {
  return rules.some((rule) => rule.apiGroups.includes(request.group) && rule.resources.includes(request.resource) && rule.verbs.includes(request.verb));
}

// ---------------------------------------------------------------------------------------------
// The exec and patch fence: ValidatingAdmissionPolicies (GA in Kubernetes 1.30).
//
// RBAC cannot say "only this command in this container" or "only this field": `create` on
// pods/exec lets the sampler run anything in any container of any pod, `patch` on deployments
// lets the remediator change images or replicas. These policies narrow both at the API server,
// for our two groups only: the sampler may exec the exact read commands of envoy-sampler.ts in
// istio-proxy, without stdin or a tty; the remediator may change only the restart annotation
// (Rollouts: spec.restartAt). Anything else is denied with 403 before it reaches the pod or etcd.

/** The commands the sampler runs (src/kube/envoy-sampler.ts), the only ones the fence allows. */
export const SAMPLER_EXEC_COMMANDS: readonly (readonly string[])[] = [ACTIVE_SECRETS_COMMAND, WARMING_SECRETS_COMMAND];
export const SAMPLER_EXEC_CONTAINER = 'istio-proxy';

export const FENCE_POLICY_NAMES = {
  samplerExec: 'mesh-cert-watch-sampler-exec',
  remediatorRestartOnly: (plural: string) => `mesh-cert-watch-remediator-${plural}-restart-only`,
} as const;

interface Validation {
  readonly expression: string;
  readonly message: string;
  readonly reason: 'Forbidden';
}

export interface AdmissionPolicyObject {
  readonly apiVersion: 'admissionregistration.k8s.io/v1';
  readonly kind: 'ValidatingAdmissionPolicy';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly failurePolicy: 'Fail';
    readonly matchConstraints: {
      readonly resourceRules: readonly { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
    };
    readonly matchConditions: readonly { name: string; expression: string }[];
    readonly variables?: readonly { name: string; expression: string }[];
    readonly validations: readonly Validation[];
  };
}

export interface AdmissionPolicyBindingObject {
  readonly apiVersion: 'admissionregistration.k8s.io/v1';
  readonly kind: 'ValidatingAdmissionPolicyBinding';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: { readonly policyName: string; readonly validationActions: readonly ['Deny'] };
}

const celString = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const celList = (items: readonly string[]): string => `[${items.map(celString).join(', ')}]`;
const forbidden = (expression: string, message: string): Validation => ({ expression, message, reason: 'Forbidden' });
const inGroup = (component: Component) => ({ name: `only-${component}`, expression: `${celString(KUBERNETES_GROUPS[component])} in request.userInfo.groups` });

/** `path` (below object/oldObject) is absent in both or equal in both. */
const unchanged = (path: string): string =>
  `(has(object.${path}) ? (has(oldObject.${path}) && object.${path} == oldObject.${path}) : !has(oldObject.${path}))`;

function samplerExecPolicy(): AdmissionPolicyObject {
  const commands = SAMPLER_EXEC_COMMANDS.map((command) => `object.command == ${celList(command)}`).join(' || ');
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: FENCE_POLICY_NAMES.samplerExec, labels: { ...LABELS, 'app.kubernetes.io/component': 'sampler' } },
    spec: {
      failurePolicy: 'Fail',
      // CONNECT pods/exec is admitted with the PodExecOptions of the request as `object`.
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CONNECT'], resources: ['pods/exec'] }] },
      matchConditions: [inGroup('sampler')],
      validations: [
        forbidden(`has(object.container) && object.container == ${celString(SAMPLER_EXEC_CONTAINER)}`, `mesh-cert-watch's sampler may exec only into the ${SAMPLER_EXEC_CONTAINER} container`),
        forbidden(`has(object.command) && (${commands})`, `mesh-cert-watch's sampler may run only: ${SAMPLER_EXEC_COMMANDS.map((c) => c.join(' ')).join(' | ')}`),
        forbidden('!has(object.stdin) || !object.stdin', "mesh-cert-watch's sampler may not attach stdin"),
        forbidden('!has(object.tty) || !object.tty', "mesh-cert-watch's sampler may not allocate a tty"),
      ],
    },
  };
}

/** The spec fields of each kind the remediator may restart (besides the pod template). */
const WORKLOAD_SPEC_FIELDS: Readonly<Record<string, { group: string; plural: string; fields: readonly string[]; restart: 'annotation' | 'restartAt' }>> = {
  Deployment: { group: 'apps', plural: 'deployments', restart: 'annotation', fields: ['replicas', 'selector', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'] },
  StatefulSet: {
    group: 'apps',
    plural: 'statefulsets',
    restart: 'annotation',
    fields: ['replicas', 'selector', 'serviceName', 'volumeClaimTemplates', 'podManagementPolicy', 'updateStrategy', 'revisionHistoryLimit', 'minReadySeconds', 'persistentVolumeClaimRetentionPolicy', 'ordinals'],
  },
  DaemonSet: { group: 'apps', plural: 'daemonsets', restart: 'annotation', fields: ['selector', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'] },
  Rollout: {
    group: 'argoproj.io',
    plural: 'rollouts',
    restart: 'restartAt',
    fields: ['replicas', 'selector', 'template', 'workloadRef', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds', 'progressDeadlineAbort', 'rollbackWindow', 'strategy', 'analysis'],
  },
};

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * Annotations the API server itself changes on such an update (the DaemonSet strategy bumps its
 * template generation when the template changes): not the remediator's doing.
 */
const SERVER_MANAGED_ANNOTATIONS = ['deprecated.daemonset.template.generation'];

function restartOnlyPolicy(kind: keyof typeof WORKLOAD_SPEC_FIELDS): AdmissionPolicyObject {
  const { group, plural, fields, restart } = WORKLOAD_SPEC_FIELDS[kind]!;
  const who = `mesh-cert-watch's remediator may change only ${restart === 'annotation' ? `the ${RESTARTED_AT} annotation of the pod template` : 'spec.restartAt'} of a ${kind}`;
  const serverManaged = celList(SERVER_MANAGED_ANNOTATIONS);
  const metadata = [
    ...['labels', 'finalizers', 'ownerReferences'].map((f) => unchanged(`metadata.${f}`)),
    `variables.newAnnotations.all(k, k in ${serverManaged} || (k in variables.oldAnnotations && variables.oldAnnotations[k] == variables.newAnnotations[k]))`,
    `variables.oldAnnotations.all(k, k in ${serverManaged} || k in variables.newAnnotations)`,
  ].join(' && ');
  const spec = fields.map((f) => unchanged(`spec.${f}`)).join(' && ');
  const validations: Validation[] = [forbidden(metadata, `${who}: its labels, annotations, finalizers and owners stay as they are`), forbidden(spec, `${who}: ${fields.join(', ')} stay as they are`)];
  const variables = [
    { name: 'oldAnnotations', expression: 'has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {}' },
    { name: 'newAnnotations', expression: 'has(object.metadata.annotations) ? object.metadata.annotations : {}' },
    ...(restart === 'annotation'
      ? [
          { name: 'oldTemplateAnnotations', expression: 'has(oldObject.spec.template.metadata) && has(oldObject.spec.template.metadata.annotations) ? oldObject.spec.template.metadata.annotations : {}' },
          { name: 'newTemplateAnnotations', expression: 'has(object.spec.template.metadata) && has(object.spec.template.metadata.annotations) ? object.spec.template.metadata.annotations : {}' },
        ]
      : []),
  ];
  if (restart === 'annotation') {
    const key = celString(RESTARTED_AT);
    validations.push(
      forbidden('object.spec.template.spec == oldObject.spec.template.spec', `${who}: the pod spec (containers, images, volumes...) stays as it is`),
      forbidden(
        `(has(object.spec.template.metadata) && has(object.spec.template.metadata.labels) ? object.spec.template.metadata.labels : {}) == (has(oldObject.spec.template.metadata) && has(oldObject.spec.template.metadata.labels) ? oldObject.spec.template.metadata.labels : {})`,
        `${who}: the pod template labels stay as they are`,
      ),
      forbidden(
        `variables.newTemplateAnnotations.all(k, k == ${key} || (k in variables.oldTemplateAnnotations && variables.oldTemplateAnnotations[k] == variables.newTemplateAnnotations[k])) && variables.oldTemplateAnnotations.all(k, k == ${key} || k in variables.newTemplateAnnotations)`,
        `${who}: the other pod template annotations stay as they are`,
      ),
    );
  }
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: FENCE_POLICY_NAMES.remediatorRestartOnly(plural), labels: { ...LABELS, 'app.kubernetes.io/component': 'remediator' } },
    spec: {
      failurePolicy: 'Fail',
      // A PATCH is admitted as an UPDATE with the patched object and the stored one.
      matchConstraints: { resourceRules: [{ apiGroups: [group], apiVersions: ['*'], operations: ['UPDATE'], resources: [plural] }] },
      matchConditions: [inGroup('remediator')],
      variables,
      validations,
    },
  };
}

export interface FenceOptions {
  /** Also fence Argo Rollouts (their CRD need not be installed). Default true. */
  readonly rollouts?: boolean;
}

/** The fence's policies and bindings (Kubernetes >= 1.30). */
export function fenceObjects(options: FenceOptions = {}): (AdmissionPolicyObject | AdmissionPolicyBindingObject)[] {
  const kinds = ['Deployment', 'StatefulSet', 'DaemonSet', ...(options.rollouts === false ? [] : ['Rollout'])];
  const policies = [samplerExecPolicy(), ...kinds.map((kind) => restartOnlyPolicy(kind))];
  return policies.flatMap((policy) => [
    policy,
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policy.metadata.name, labels: policy.metadata.labels },
      spec: { policyName: policy.metadata.name, validationActions: ['Deny'] },
    } satisfies AdmissionPolicyBindingObject,
  ]);
}
