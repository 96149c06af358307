/**
 * The Kubernetes operations the watcher uses, as client-node's own request pipeline runs them,
 * without client-node's generated API classes.
 *
 * Why: a generated API group is one class whose every method survives tree shaking (CoreV1Api
 * alone is ~370 KB minified, plus ~300 KB of Observable/ObjectParam wrappers for the four groups
 * we touch), about 0.9 MB of each Lambda bundle for 15 operations. Each operation here is the
 * generated code's request/response contract written as data (method, path, query parameters,
 * body type and media types, response type) and run through the same client-node parts:
 * `Configuration` (server, auth methods with the KubeConfig's credentials, middleware and its
 * merge strategy, `setHeaderOptions` for patch content types), the `HttpLibrary` (client-node's
 * fetch), `ObjectSerializer` (the typed models, dates as `Date`) and `ApiException`.
 * Method names, parameter objects and results are client-node's (`Pick<CoreV1Api, ...>`), so a
 * call site reads exactly as it would with the generated classes; test/kube/kube-api.test.ts
 * proves each operation sends the same request and returns the same result as the generated one.
 * The one exception is `PodListApi`, the sweep's pod pages: same requests, answers left as JSON.
 */
import {
  ApiException,
  HttpMethod,
  RequiredError,
  type AppsV1Api,
  type BatchV1Api,
  type Configuration,
  type ConfigurationOptions,
  type CoreV1Api,
  type CustomObjectsApi,
  type RequestContext,
  type ResponseContext,
  type V1OwnerReference,
  type V1PodSpec,
} from '@kubernetes/client-node';
// Not re-exported by the package index: the merge the generated classes apply to per-call options
// and the serializer they use for every body.
import { mergeConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';

/** How a query parameter is serialized (the generated code's `ObjectSerializer.serialize(v, type)`). */
type QueryType = 'string' | 'number' | 'boolean';

interface Operation {
  /** Generated class and method, for `RequiredError` messages. */
  readonly api: string;
  readonly name: string;
  readonly method: HttpMethod;
  /** Path template; every `{param}` is required. */
  readonly path: string;
  /** Query parameters in the generated code's order; `_continue` is sent as `continue`. */
  readonly query: Readonly<Record<string, QueryType>>;
  /** Request body: model type and the media types the operation declares (first is preferred). */
  readonly body?: { readonly type: string; readonly mediaTypes: readonly string[]; readonly required: boolean };
  /** Model type of a 2xx answer. */
  readonly response: string;
  /** `json`: a 2xx answer is returned as parsed, not deserialized into the model (see PodListApi). */
  readonly decode?: 'json';
}

const READ_QUERY = { pretty: 'string' } as const;
const LIST_QUERY = {
  pretty: 'string',
  allowWatchBookmarks: 'boolean',
  _continue: 'string',
  fieldSelector: 'string',
  labelSelector: 'string',
  limit: 'number',
  resourceVersion: 'string',
  resourceVersionMatch: 'string',
  sendInitialEvents: 'boolean',
  shardSelector: 'string',
  timeoutSeconds: 'number',
  watch: 'boolean',
} as const;
const PATCH_QUERY = { pretty: 'string', dryRun: 'string', fieldManager: 'string', fieldValidation: 'string', force: 'boolean' } as const;
const DELETE_QUERY = {
  pretty: 'string',
  dryRun: 'string',
  gracePeriodSeconds: 'number',
  ignoreStoreReadErrorWithClusterBreakingPotential: 'boolean',
  orphanDependents: 'boolean',
  propagationPolicy: 'string',
} as const;
const PATCH_MEDIA_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/apply-patch+cbor',
];

const read = (api: string, name: string, path: string, response: string): Operation => ({ api, name, method: HttpMethod.GET, path, query: READ_QUERY, response });
const patch = (api: string, name: string, path: string, response: string): Operation => ({
  api,
  name,
  method: HttpMethod.PATCH,
  path,
  query: PATCH_QUERY,
  body: { type: 'any', mediaTypes: PATCH_MEDIA_TYPES, required: true },
  response,
});

const APPS = '/apis/apps/v1/namespaces/{namespace}';
const CUSTOM_OBJECT = '/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}';

const OPERATIONS = {
  listNamespacedPod: { api: 'CoreV1Api', name: 'listNamespacedPod', method: HttpMethod.GET, path: '/api/v1/namespaces/{namespace}/pods', query: LIST_QUERY, response: 'V1PodList' },
  listPodForAllNamespaces: {
    api: 'CoreV1Api',
    name: 'listPodForAllNamespaces',
    method: HttpMethod.GET,
    path: '/api/v1/pods',
    // LIST_QUERY's parameters in the generated method's order (the query string is built in key order).
    query: {
      allowWatchBookmarks: 'boolean',
      _continue: 'string',
      fieldSelector: 'string',
      labelSelector: 'string',
      limit: 'number',
      pretty: 'string',
      resourceVersion: 'string',
      resourceVersionMatch: 'string',
      sendInitialEvents: 'boolean',
      shardSelector: 'string',
      timeoutSeconds: 'number',
      watch: 'boolean',
    },
    response: 'V1PodList',
  },
  readNamespace: read('CoreV1Api', 'readNamespace', '/api/v1/namespaces/{name}', 'V1Namespace'),
  readNamespacedPod: read('CoreV1Api', 'readNamespacedPod', '/api/v1/namespaces/{namespace}/pods/{name}', 'V1Pod'),
  deleteNamespacedPod: {
    api: 'CoreV1Api',
    name: 'deleteNamespacedPod',
    method: HttpMethod.DELETE,
    path: '/api/v1/namespaces/{namespace}/pods/{name}',
    query: DELETE_QUERY,
    body: { type: 'V1DeleteOptions', mediaTypes: [], required: false },
    response: 'V1Pod',
  },
  readNamespacedDeployment: read('AppsV1Api', 'readNamespacedDeployment', `${APPS}/deployments/{name}`, 'V1Deployment'),
  readNamespacedStatefulSet: read('AppsV1Api', 'readNamespacedStatefulSet', `${APPS}/statefulsets/{name}`, 'V1StatefulSet'),
  readNamespacedDaemonSet: read('AppsV1Api', 'readNamespacedDaemonSet', `${APPS}/daemonsets/{name}`, 'V1DaemonSet'),
  readNamespacedReplicaSet: read('AppsV1Api', 'readNamespacedReplicaSet', `${APPS}/replicasets/{name}`, 'V1ReplicaSet'),
  patchNamespacedDeployment: patch('AppsV1Api', 'patchNamespacedDeployment', `${APPS}/deployments/{name}`, 'V1Deployment'),
  patchNamespacedStatefulSet: patch('AppsV1Api', 'patchNamespacedStatefulSet', `${APPS}/statefulsets/{name}`, 'V1StatefulSet'),
  patchNamespacedDaemonSet: patch('AppsV1Api', 'patchNamespacedDaemonSet', `${APPS}/daemonsets/{name}`, 'V1DaemonSet'),
  readNamespacedJob: read('BatchV1Api', 'readNamespacedJob', '/apis/batch/v1/namespaces/{namespace}/jobs/{name}', 'V1Job'),
  getNamespacedCustomObject: { api: 'CustomObjectsApi', name: 'getNamespacedCustomObject', method: HttpMethod.GET, path: CUSTOM_OBJECT, query: {}, response: 'any' },
  patchNamespacedCustomObject: {
    api: 'CustomObjectsApi',
    name: 'patchNamespacedCustomObject',
    method: HttpMethod.PATCH,
    path: CUSTOM_OBJECT,
    query: { dryRun: 'string', fieldManager: 'string', fieldValidation: 'string', force: 'boolean' },
    body: { type: 'any', mediaTypes: ['application/json-patch+json', 'application/merge-patch+json'], required: true },
    response: 'any',
  },
} satisfies Record<string, Operation>;

type Params = Readonly<Record<string, unknown>>;

/** The request the generated `…ApiRequestFactory` method builds, credentials applied. */
async function buildRequest(configuration: Configuration, operation: Operation, params: Params): Promise<RequestContext> {
  const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === null || value === undefined) throw new RequiredError(operation.api, operation.name, name);
    return encodeURIComponent(String(value));
  });
  const body = operation.body;
  if (body?.required && (params.body === null || params.body === undefined)) throw new RequiredError(operation.api, operation.name, 'body');
  const request = configuration.baseServer.makeRequestContext(path, operation.method);
  request.setHeaderParam('Accept', 'application/json, */*;q=0.8');
  for (const [name, type] of Object.entries(operation.query)) {
    const value = params[name];
    if (value !== undefined) request.setQueryParam(name === '_continue' ? 'continue' : name, ObjectSerializer.serialize(value, type, ''));
  }
  if (body) {
    const contentType = ObjectSerializer.getPreferredMediaType([...body.mediaTypes]);
    request.setHeaderParam('Content-Type', contentType);
    request.setBody(ObjectSerializer.stringify(ObjectSerializer.serialize(params.body, body.type, ''), contentType));
  }
  for (const auth of [configuration.authMethods.BearerToken, configuration.authMethods.default]) {
    if (auth?.applySecurityAuthentication) await auth.applySecurityAuthentication(request);
  }
  return request;
}

/** The generated `…ApiResponseProcessor` method: 2xx is the typed result, anything else an `ApiException`. */
async function readResponse<T>(response: ResponseContext, operation: Operation): Promise<T> {
  if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
    const contentType = ObjectSerializer.normalizeMediaType(response.headers['content-type']);
    const parsed: unknown = ObjectSerializer.parse(await response.body.text(), contentType);
    return (operation.decode === 'json' ? parsed : ObjectSerializer.deserialize(parsed, operation.response, '')) as T;
  }
  if (response.httpStatusCode === 401) throw new ApiException(response.httpStatusCode, 'Unauthorized', undefined, response.headers);
  throw new ApiException(response.httpStatusCode, 'Unknown API Status Code!', await response.getBodyAsAny(), response.headers);
}

/** One operation as the generated Observable/ObjectParam classes run it: middleware pre, send, middleware post (reversed), result. */
async function invoke<T>(configuration: Configuration, options: ConfigurationOptions | undefined, operation: Operation, params: Params): Promise<T> {
  const config = mergeConfiguration(configuration, options);
  let request = await buildRequest(config, operation, params);
  for (const middleware of config.middleware) request = await middleware.pre(request).toPromise();
  let response = await config.httpApi.send(request).toPromise();
  for (const middleware of [...config.middleware].reverse()) response = await middleware.post(response).toPromise();
  return readResponse<T>(response, operation);
}

type Method<Api, K extends keyof Api> = Api[K] extends (param: infer P, options?: ConfigurationOptions) => Promise<infer R> ? (param: P, options?: ConfigurationOptions) => Promise<R> : never;
type Narrow<Api, K extends keyof Api & keyof typeof OPERATIONS> = { readonly [M in K]: Method<Api, M> };

function narrow<Api, K extends keyof Api & keyof typeof OPERATIONS>(configuration: Configuration, names: readonly K[], decode?: 'json'): Narrow<Api, K> {
  const api: Record<string, unknown> = {};
  for (const name of names) {
    const operation: Operation = decode ? { ...OPERATIONS[name], decode } : OPERATIONS[name];
    api[name] = (param: Params, options?: ConfigurationOptions) => invoke(configuration, options, operation, param);
  }
  return api as Narrow<Api, K>;
}

const CORE = ['listNamespacedPod', 'listPodForAllNamespaces', 'readNamespace', 'readNamespacedPod', 'deleteNamespacedPod'] as const;
const APPS_OPERATIONS = [
  'readNamespacedDeployment',
  'readNamespacedStatefulSet',
  'readNamespacedDaemonSet',
  'readNamespacedReplicaSet',
  'patchNamespacedDeployment',
  'patchNamespacedStatefulSet',
  'patchNamespacedDaemonSet',
] as const;
const BATCH = ['readNamespacedJob'] as const;
const POD_LISTS = ['listNamespacedPod', 'listPodForAllNamespaces'] as const;
const CUSTOM = ['getNamespacedCustomObject', 'patchNamespacedCustomObject'] as const;

/**
 * A pod as the API server's JSON has it: only the fields the sweep reads (timestamps are strings,
 * names are the wire's: the list's `continue`, not the model's `_continue`).
 */
export interface WirePod {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly deletionTimestamp?: string;
    readonly ownerReferences?: readonly V1OwnerReference[];
  };
  readonly spec?: Pick<V1PodSpec, 'containers' | 'initContainers' | 'nodeName' | 'serviceAccountName' | 'volumes'>;
  readonly status?: { readonly phase?: string };
}

export interface WirePodList {
  readonly metadata?: { readonly continue?: string; readonly remainingItemCount?: number };
  readonly items: readonly WirePod[];
}

/**
 * The two pod lists, same requests as the generated methods, answered as parsed JSON instead of
 * client-node's models. Why: ObjectSerializer walks every field of every pod to build the models
 * (30-55 ms for a 500-pod page of the bench's small pods, several times that for real injected
 * pods), on the one thread every exec stream in flight waits on; a sweep reads a dozen fields.
 */
export type PodListApi = {
  readonly [M in (typeof POD_LISTS)[number]]: (param: Parameters<CoreV1Api[M]>[0], options?: ConfigurationOptions) => Promise<WirePodList>;
};

/** The `CoreV1Api` operations the watcher uses. */
export type CoreApi = Narrow<CoreV1Api, (typeof CORE)[number]>;
/** The `AppsV1Api` operations the watcher uses. */
export type AppsApi = Narrow<AppsV1Api, (typeof APPS_OPERATIONS)[number]>;
/** The `BatchV1Api` operations the watcher uses. */
export type BatchApi = Narrow<BatchV1Api, (typeof BATCH)[number]>;
/** The `CustomObjectsApi` operations the watcher uses. */
export type CustomObjectApi = Narrow<CustomObjectsApi, (typeof CUSTOM)[number]>;

export const coreApi = (configuration: Configuration): CoreApi => narrow<CoreV1Api, (typeof CORE)[number]>(configuration, CORE);
export const appsApi = (configuration: Configuration): AppsApi => narrow<AppsV1Api, (typeof APPS_OPERATIONS)[number]>(configuration, APPS_OPERATIONS);
export const batchApi = (configuration: Configuration): BatchApi => narrow<BatchV1Api, (typeof BATCH)[number]>(configuration, BATCH);
export const customObjectApi = (configuration: Configuration): CustomObjectApi => narrow<CustomObjectsApi, (typeof CUSTOM)[number]>(configuration, CUSTOM);
// The generated signatures with the result the `json` decoding gives.
export const podListApi = (configuration: Configuration): PodListApi => narrow<CoreV1Api, (typeof POD_LISTS)[number]>(configuration, POD_LISTS, 'json') as unknown as PodListApi;
