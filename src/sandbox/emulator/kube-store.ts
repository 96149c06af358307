/**
 * In-memory object store behind the Kubernetes API emulator: one global resourceVersion
 * counter (like etcd's revision), uid/creationTimestamp/generation bookkeeping, and lists
 * served in key order with `limit`/`continue` paging over a consistent snapshot.
 *
 * Stored objects are never mutated (every write stores a new object), which lets list
 * snapshots hold plain references and lets serialised JSON be cached per object.
 */
import {
  apiVersionOf,
  badRequestStatus,
  expiredContinueStatus,
  resourceTypeForKind,
  RESOURCE_TYPES,
  type KubeObject,
  type KubeStatus,
  type ResourceType,
} from './kube-resources.js';
import { deepEqual } from './kube-patch.js';

export interface ListQuery {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continueToken?: string;
}

export type ListResult = { readonly ok: true; readonly json: string } | { readonly ok: false; readonly status: KubeStatus };

interface ListSnapshot {
  readonly resourceVersion: string;
  readonly items: readonly KubeObject[];
  /** remainingItemCount is only reported for unfiltered lists (the real server cannot count otherwise). */
  readonly countable: boolean;
}

interface ContinueToken {
  readonly v: 'meta.k8s.io/v1';
  readonly rv: number;
  readonly start: number;
  readonly snapshot: number;
}

/** Continue tokens older than this many newer snapshots answer 410, like a compacted etcd. */
const MAX_SNAPSHOTS = 256;

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const FIELD_SELECTORS: Readonly<Record<string, readonly string[]>> = {
  Pod: [
    ...COMMON_FIELDS,
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Namespace: [...COMMON_FIELDS, 'status.phase'],
};

export function kubeTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

export class ObjectStore {
  private revision = 0;
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>(RESOURCE_TYPES.map((t) => [t, new Map()]));
  private readonly sorted = new Map<ResourceType, readonly KubeObject[]>();
  private readonly objectJson = new WeakMap<KubeObject, string>();
  private readonly itemJson = new WeakMap<KubeObject, string>();
  private readonly snapshots = new Map<number, ListSnapshot>();
  private nextSnapshot = 1;

  constructor(
    private readonly clock: () => Date,
    private readonly newUid: () => string,
  ) {}

  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Creates or replaces an object; namespaced objects bring their Namespace into existence. */
  apply(input: KubeObject): KubeObject {
    const type = resourceTypeForKind(input.kind);
    if (type === undefined) throw new Error(`kind ${input.kind} is not served by the emulator`);
    if (input.apiVersion !== apiVersionOf(type)) {
      throw new Error(`${input.kind} is served as ${apiVersionOf(type)}, not ${input.apiVersion}`);
    }
    const { name, namespace } = input.metadata ?? {};
    if (!name) throw new Error(`${input.kind} needs metadata.name`);
    if (type.namespaced && !namespace) throw new Error(`${input.kind} ${name} needs metadata.namespace`);
    if (type.namespaced && !this.find(namespaceType(), undefined, namespace!)) this.apply(namespaceObject(namespace!));

    const copy = JSON.parse(JSON.stringify(input)) as KubeObject;
    if (!type.namespaced) delete copy.metadata.namespace;
    const existing = this.find(type, copy.metadata.namespace, name);
    copy.metadata.uid = copy.metadata.uid ?? existing?.metadata.uid ?? this.newUid();
    copy.metadata.creationTimestamp = copy.metadata.creationTimestamp ?? existing?.metadata.creationTimestamp ?? kubeTimestamp(this.clock());
    copy.metadata.generation =
      existing === undefined
        ? (copy.metadata.generation ?? 1)
        : (existing.metadata.generation ?? 1) + (deepEqual(existing.spec, copy.spec) ? 0 : 1);
    return this.store(type, copy);
  }

  /**
   * Stores `next` as the new state of an existing object (a PATCH): bumps the resourceVersion
   * and, when `spec` changed, `metadata.generation`. Identity fields cannot change.
   */
  update(type: ResourceType, existing: KubeObject, next: KubeObject): KubeObject {
    next.apiVersion = existing.apiVersion;
    next.kind = existing.kind;
    next.metadata = {
      ...next.metadata,
      name: existing.metadata.name,
      uid: existing.metadata.uid,
      creationTimestamp: existing.metadata.creationTimestamp,
      generation: (existing.metadata.generation ?? 1) + (deepEqual(existing.spec, next.spec) ? 0 : 1),
    };
    if (type.namespaced) next.metadata.namespace = existing.metadata.namespace;
    return this.store(type, next);
  }

  remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = objectKey(type.namespaced ? namespace : undefined, name);
    const bucket = this.objects.get(type)!;
    const existing = bucket.get(key);
    if (existing === undefined) return undefined;
    bucket.delete(key);
    this.sorted.delete(type);
    this.revision += 1;
    return existing;
  }

  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(type)!.get(objectKey(type.namespaced ? namespace : undefined, name));
  }

  /** Objects of a type in key order (namespace, then name), optionally in one namespace. */
  items(type: ResourceType, namespace?: string): readonly KubeObject[] {
    let all = this.sorted.get(type);
    if (all === undefined) {
      const entries = [...this.objects.get(type)!.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      all = entries.map(([, obj]) => obj);
      this.sorted.set(type, all);
    }
    return namespace === undefined || !type.namespaced ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** The object as the API server sends it from a GET (cached: stored objects are immutable). */
  json(obj: KubeObject): string {
    let text = this.objectJson.get(obj);
    if (text === undefined) {
      text = JSON.stringify(obj);
      this.objectJson.set(obj, text);
    }
    return text;
  }

  list(type: ResourceType, query: ListQuery): ListResult {
    let snapshot: ListSnapshot;
    let start = 0;
    let snapshotId: number | undefined;
    if (query.continueToken) {
      const token = decodeContinue(query.continueToken);
      if (token === undefined) return { ok: false, status: badRequestStatus('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)') };
      const found = this.snapshots.get(token.snapshot);
      if (found === undefined || found.resourceVersion !== String(token.rv)) return { ok: false, status: expiredContinueStatus() };
      snapshot = found;
      start = token.start;
      snapshotId = token.snapshot;
    } else {
      const filter = buildFilter(type, query);
      if (typeof filter === 'string') return { ok: false, status: badRequestStatus(filter) };
      const candidates = this.items(type, query.namespace);
      snapshot = {
        resourceVersion: this.resourceVersion,
        items: filter === null ? candidates : candidates.filter(filter),
        countable: filter === null,
      };
    }

    const limit = query.limit !== undefined && query.limit > 0 ? query.limit : Infinity;
    const end = Math.min(snapshot.items.length, start + limit);
    const metadata: Record<string, unknown> = { resourceVersion: snapshot.resourceVersion };
    if (end < snapshot.items.length) {
      snapshotId ??= this.keepSnapshot(snapshot);
      metadata.continue = encodeContinue({ v: 'meta.k8s.io/v1', rv: Number(snapshot.resourceVersion), start: end, snapshot: snapshotId });
      if (snapshot.countable) metadata.remainingItemCount = snapshot.items.length - end;
    }
    const parts: string[] = new Array<string>(end - start);
    for (let i = start; i < end; i++) parts[i - start] = this.listItemJson(type, snapshot.items[i]!);
    const json = `{"kind":"${type.listKind}","apiVersion":"${apiVersionOf(type)}","metadata":${JSON.stringify(metadata)},"items":[${parts.join(',')}]}`;
    return { ok: true, json };
  }

  /** Every outstanding continue token now answers 410 Expired (etcd compaction). */
  expireSnapshots(): void {
    this.snapshots.clear();
  }

  private keepSnapshot(snapshot: ListSnapshot): number {
    const id = this.nextSnapshot++;
    this.snapshots.set(id, snapshot);
    if (this.snapshots.size > MAX_SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value!);
    return id;
  }

  /** Built-in list items carry no `apiVersion`/`kind`; CRD list items do. */
  private listItemJson(type: ResourceType, obj: KubeObject): string {
    if (type.custom) return this.json(obj);
    let text = this.itemJson.get(obj);
    if (text === undefined) {
      const { apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
      text = JSON.stringify(rest);
      this.itemJson.set(obj, text);
    }
    return text;
  }

  private store(type: ResourceType, obj: KubeObject): KubeObject {
    this.revision += 1;
    obj.metadata.resourceVersion = String(this.revision);
    this.objects.get(type)!.set(objectKey(obj.metadata.namespace, obj.metadata.name), obj);
    this.sorted.delete(type);
    return obj;
  }
}

function namespaceType(): ResourceType {
  return resourceTypeForKind('Namespace')!;
}

export function namespaceObject(name: string, labels: Record<string, string> = {}, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: { 'kubernetes.io/metadata.name': name, ...labels },
      ...(annotations === undefined ? {} : { annotations }),
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64');
}

function decodeContinue(text: string): ContinueToken | undefined {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Partial<ContinueToken>;
    if (token.v !== 'meta.k8s.io/v1' || !Number.isInteger(token.rv) || !Number.isInteger(token.start) || !Number.isInteger(token.snapshot)) {
      return undefined;
    }
    return token as ContinueToken;
  } catch {
    return undefined;
  }
}

type ObjectFilter = (obj: KubeObject) => boolean;

/** null = no filtering, string = the BadRequest message. */
function buildFilter(type: ResourceType, query: ListQuery): ObjectFilter | null | string {
  const filters: ObjectFilter[] = [];
  if (query.labelSelector) {
    const parsed = parseLabelSelector(query.labelSelector);
    if (typeof parsed === 'string') return parsed;
    filters.push(parsed);
  }
  if (query.fieldSelector) {
    const parsed = parseFieldSelector(type, query.fieldSelector);
    if (typeof parsed === 'string') return parsed;
    filters.push(parsed);
  }
  if (filters.length === 0) return null;
  return (obj) => filters.every((f) => f(obj));
}

/** Splits on commas outside parentheses (`env in (a,b),tier=web`). */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export function parseLabelSelector(selector: string): ObjectFilter | string {
  const requirements: ObjectFilter[] = [];
  for (const requirement of splitRequirements(selector)) {
    const labelsOf = (obj: KubeObject): Record<string, string> => obj.metadata.labels ?? {};
    let match: RegExpMatchArray | null;
    if ((match = requirement.match(/^!\s*([\w./-]+)$/))) {
      const key = match[1]!;
      requirements.push((obj) => !Object.hasOwn(labelsOf(obj), key));
    } else if ((match = requirement.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) {
      const [, key, op, value] = match as unknown as [string, string, string, string];
      requirements.push(op === '!=' ? (obj) => labelsOf(obj)[key] !== value : (obj) => labelsOf(obj)[key] === value);
    } else if ((match = requirement.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const [, key, op, list] = match as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((v) => v.trim()));
      requirements.push(
        op === 'in'
          ? (obj) => values.has(labelsOf(obj)[key] ?? '\u0000')
          : (obj) => !values.has(labelsOf(obj)[key] ?? '\u0000'),
      );
    } else if ((match = requirement.match(/^([\w./-]+)$/))) {
      const key = match[1]!;
      requirements.push((obj) => Object.hasOwn(labelsOf(obj), key));
    } else {
      return `unable to parse requirement: ${JSON.stringify(requirement)}`;
    }
  }
  return (obj) => requirements.every((r) => r(obj));
}

function fieldValue(obj: KubeObject, path: string): string {
  let node: unknown = obj;
  for (const part of path.split('.')) {
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  }
  return node === undefined || node === null ? '' : String(node);
}

function parseFieldSelector(type: ResourceType, selector: string): ObjectFilter | string {
  const supported = FIELD_SELECTORS[type.kind] ?? COMMON_FIELDS;
  const requirements: ObjectFilter[] = [];
  for (const requirement of splitRequirements(selector)) {
    const match = requirement.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!match) return `invalid selector: '${selector}'; can't understand '${requirement}'`;
    const [, field, op, value] = match as unknown as [string, string, string, string];
    if (!supported.includes(field)) {
      return type.custom ? `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"` : `field label not supported: ${field}`;
    }
    requirements.push(op === '!=' ? (obj) => fieldValue(obj, field) !== value : (obj) => fieldValue(obj, field) === value);
  }
  return (obj) => requirements.every((r) => r(obj));
}
