/**
 * The three JSON patch flavours kube-apiserver accepts: JSON merge patch (RFC 7386), a
 * strategic merge patch close enough for workload objects, and JSON patch (RFC 6902).
 * All functions return a new document and never mutate their inputs.
 */

export class PatchError extends Error {
  override readonly name = 'PatchError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 7386: objects merge recursively, `null` deletes a key, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

const MERGE_KEY = 'name';

function isNamedList(list: unknown): list is Record<string, unknown>[] {
  return Array.isArray(list) && list.every((item) => isObject(item) && typeof item[MERGE_KEY] === 'string');
}

/**
 * Strategic merge as used on workloads: like a merge patch, but lists of named objects
 * (containers, initContainers, volumes, env, volumeMounts) merge by `name` instead of being
 * replaced. Directive keys (`$setElementOrder/...`, `$retainKeys`) are accepted and ignored.
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
    } else if (isNamedList(value) && isNamedList(result[key])) {
      const merged = result[key] as Record<string, unknown>[];
      for (const item of value) {
        const index = merged.findIndex((existing) => existing[MERGE_KEY] === item[MERGE_KEY]);
        if (item.$patch === 'delete') {
          if (index >= 0) merged.splice(index, 1);
        } else if (index >= 0) {
          merged[index] = applyStrategicMergePatch(merged[index], item) as Record<string, unknown>;
        } else {
          merged.push(applyStrategicMergePatch({}, item) as Record<string, unknown>);
        }
      }
    } else {
      result[key] = applyStrategicMergePatch(result[key], value);
    }
  }
  return result;
}

interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly from?: string;
  readonly value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(list: unknown[], token: string, forInsert: boolean): number {
  if (forInsert && token === '-') return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index ${JSON.stringify(token)}`);
  const index = Number(token);
  if (index > list.length || (!forInsert && index === list.length)) throw new PatchError(`array index ${index} out of bounds`);
  return index;
}

/** Walks to the container of the pointer's last token. */
function resolveParent(doc: unknown, tokens: readonly string[], pointer: string): unknown {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, token, false)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else throw new PatchError(`path ${pointer} does not exist`);
  }
  return node;
}

function getAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const parent = resolveParent(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)];
  if (isObject(parent) && Object.hasOwn(parent, last)) return parent[last];
  throw new PatchError(`path ${pointer} does not exist`);
}

function addAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = resolveParent(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else if (isObject(parent)) parent[last] = value;
  else throw new PatchError(`path ${pointer} does not exist`);
  return doc;
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the document root');
  const parent = resolveParent(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else if (isObject(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw new PatchError(`unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

function parseOperations(patch: unknown): JsonPatchOperation[] {
  if (!Array.isArray(patch)) {
    throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  return patch.map((op) => {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new PatchError('invalid JSON patch operation: op and path are required');
    }
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op.op)) {
      throw new PatchError(`unexpected kind: ${op.op}`);
    }
    return op as unknown as JsonPatchOperation;
  });
}

/** RFC 6902. Throws PatchError on a failed `test` or a missing path (kube-apiserver answers 422). */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  let doc: unknown = clone(target);
  for (const operation of parseOperations(patch)) {
    switch (operation.op) {
      case 'add':
        doc = addAt(doc, operation.path, clone(operation.value as Json));
        break;
      case 'remove':
        doc = removeAt(doc, operation.path);
        break;
      case 'replace':
        if (operation.path === '') {
          doc = clone(operation.value as Json);
          break;
        }
        getAt(doc, operation.path);
        doc = addAt(removeAt(doc, operation.path), operation.path, clone(operation.value as Json));
        break;
      case 'move': {
        const value = getAt(doc, operation.from ?? '');
        doc = addAt(removeAt(doc, operation.from ?? ''), operation.path, value);
        break;
      }
      case 'copy':
        doc = addAt(doc, operation.path, clone(getAt(doc, operation.from ?? '')));
        break;
      case 'test':
        if (!deepEqual(getAt(doc, operation.path), operation.value)) {
          throw new PatchError(`testing value ${operation.path} failed: test failed`);
        }
        break;
    }
  }
  return doc;
}
