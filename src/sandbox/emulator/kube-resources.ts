/**
 * The resource types the Kubernetes API emulator serves, the object shape it stores, and the
 * `Status` bodies it answers errors with (same fields, wording and reasons as kube-apiserver, so
 * client code sees exactly what a real cluster would send).
 */

export interface ResourceType {
  readonly kind: string;
  readonly listKind: string;
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Served by a CRD: no strategic merge patch, list items keep `apiVersion`/`kind`. */
  readonly custom: boolean;
}

function resource(kind: string, group: string, version: string, plural: string, namespaced = true, custom = false): ResourceType {
  return { kind, listKind: `${kind}List`, group, version, plural, namespaced, custom };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  resource('Pod', '', 'v1', 'pods'),
  resource('Namespace', '', 'v1', 'namespaces', false),
  resource('Deployment', 'apps', 'v1', 'deployments'),
  resource('ReplicaSet', 'apps', 'v1', 'replicasets'),
  resource('StatefulSet', 'apps', 'v1', 'statefulsets'),
  resource('DaemonSet', 'apps', 'v1', 'daemonsets'),
  resource('Job', 'batch', 'v1', 'jobs'),
  resource('CronJob', 'batch', 'v1', 'cronjobs'),
  resource('Rollout', 'argoproj.io', 'v1alpha1', 'rollouts', true, true),
];

export type ResourceKind = 'Pod' | 'Namespace' | 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'Rollout';

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** `pods`, `deployments.apps`, `rollouts.argoproj.io`: how the API server names a resource in messages. */
export function groupResourceOf(type: ResourceType): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

/**
 * Legacy discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/GROUP/VERSION`) for the types
 * above, so kubectl (which discovers before it lists or execs) can talk to the emulator; null for
 * any other path.
 */
export function discoveryDocument(path: string): object | null {
  const trimmed = path.replace(/\/+$/, '');
  const verbs = ['get', 'list', 'watch', 'patch', 'delete'];
  const resources = (group: string, version: string) => ({
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: RESOURCE_TYPES.filter((t) => t.group === group && t.version === version).flatMap((t) => [
      { name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs },
      ...(t.kind === 'Pod' ? [{ name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] }] : []),
    ]),
  });
  if (trimmed === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
  if (trimmed === '/api/v1') return resources('', 'v1');
  const groups = [...new Set(RESOURCE_TYPES.filter((t) => t.group !== '').map((t) => `${t.group}/${t.version}`))];
  if (trimmed === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
      }),
    };
  }
  const match = /^\/apis\/([^/]+)\/([^/]+)$/.exec(trimmed);
  if (match && groups.includes(`${match[1]}/${match[2]}`)) return resources(match[1]!, match[2]!);
  return null;
}

export function resourceTypeForKind(kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind);
}

export function resourceTypeFor(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

/** A Kubernetes object as JSON. The emulator never mutates a stored object: writes replace it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

/** `metav1.Status` as the API server serialises it. */
export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, unknown>;
  readonly status: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

export function failureStatus(code: number, reason: string, message: string, details?: StatusDetails): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

function detailsFor(type: ResourceType, name: string | undefined): StatusDetails {
  return { ...(name === undefined ? {} : { name }), ...(type.group === '' ? {} : { group: type.group }), kind: type.plural };
}

export function notFoundStatus(type: ResourceType, name: string): KubeStatus {
  return failureStatus(404, 'NotFound', `${groupResourceOf(type)} "${name}" not found`, detailsFor(type, name));
}

/** A path the emulator does not serve at all. */
export function unknownResourceStatus(): KubeStatus {
  return failureStatus(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function unauthorizedStatus(): KubeStatus {
  return failureStatus(401, 'Unauthorized', 'Unauthorized');
}

export function badRequestStatus(message: string): KubeStatus {
  return failureStatus(400, 'BadRequest', message);
}

export function conflictStatus(type: ResourceType, name: string): KubeStatus {
  return failureStatus(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResourceOf(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsFor(type, name),
  );
}

export function invalidStatus(message: string): KubeStatus {
  return failureStatus(422, 'Invalid', message, {});
}

export function methodNotAllowedStatus(): KubeStatus {
  return failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function unsupportedMediaTypeStatus(accepted: readonly string[]): KubeStatus {
  return failureStatus(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function expiredContinueStatus(): KubeStatus {
  return failureStatus(
    410,
    'Expired',
    'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
  );
}

export interface ForbiddenTarget {
  readonly type: ResourceType;
  readonly verb: string;
  readonly username: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

/** RBAC's wording: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "ns"`. */
export function forbiddenStatus(target: ForbiddenTarget, reason?: string): KubeStatus {
  const { type } = target;
  const subject = target.name === undefined ? groupResourceOf(type) : `${groupResourceOf(type)} "${target.name}"`;
  const resourceName = target.subresource === undefined ? type.plural : `${type.plural}/${target.subresource}`;
  const scope = target.namespace === undefined ? 'at the cluster scope' : `in the namespace "${target.namespace}"`;
  const message = `${subject} is forbidden: User "${target.username}" cannot ${target.verb} resource "${resourceName}" in API group "${type.group}" ${scope}${reason === undefined ? '' : `: ${reason}`}`;
  return failureStatus(403, 'Forbidden', message, detailsFor(type, target.name));
}

/** Default wording and reason per HTTP code, for injected faults. */
export function genericStatus(code: number, message?: string, retryAfterSeconds?: number): KubeStatus {
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  switch (code) {
    case 400:
      return failureStatus(code, 'BadRequest', message ?? 'bad request');
    case 401:
      return unauthorizedStatus();
    case 403:
      return failureStatus(code, 'Forbidden', message ?? 'forbidden', {});
    case 404:
      return failureStatus(code, 'NotFound', message ?? 'the server could not find the requested resource', {});
    case 409:
      return failureStatus(code, 'Conflict', message ?? 'the object has been modified', {});
    case 410:
      return message === undefined ? expiredContinueStatus() : failureStatus(code, 'Expired', message);
    case 429:
      return failureStatus(code, 'TooManyRequests', message ?? 'Too many requests, please try again later.', retry);
    case 500:
      return failureStatus(code, 'InternalError', message ?? 'Internal error occurred: emulated server fault', {
        causes: [{ message: message ?? 'emulated server fault' }],
        ...retry,
      });
    case 503:
      return failureStatus(code, 'ServiceUnavailable', message ?? 'the server is currently unable to handle the request', retry);
    case 504:
      return failureStatus(code, 'Timeout', message ?? 'the server was unable to return a response in the time allotted', retry);
    default:
      return failureStatus(code, 'Unknown', message ?? `the server responded with status ${code}`, retry);
  }
}
