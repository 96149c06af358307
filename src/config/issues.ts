/**
 * Turns zod validation issues into one ConfigError that names the exact setting at fault,
 * e.g. `clusters[1].schedule.rateMinutes: Too small: expected number to be >=1`.
 */
import type { z } from 'zod';
import { ConfigError, formatPath as formatSettingPath } from '../core/model/errors.js';

/** `['clusters', 1, 'schedule']` -> `clusters[1].schedule` (the core's path format, shared with event errors). */
export { formatPath as formatSettingPath } from '../core/model/errors.js';

export interface IssueOptions {
  /** Prefix of every setting path, e.g. `MESH_CERT_WATCH_CONFIG`. @default '' */
  readonly root?: string;
  /** The schema that produced the issues, used to suggest the intended key for an unknown one. */
  readonly schema?: z.ZodType;
}

/** One `setting: message` pair per issue; unknown keys are reported at their own path. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  options: IssueOptions = {},
): Array<{ setting: string; message: string }> {
  const { root = '', schema } = options;
  const described: Array<{ setting: string; message: string }> = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const suggestion = schema ? closest(key, objectKeysAt(schema, issue.path)) : undefined;
        described.push({
          setting: formatSettingPath([...issue.path, key], root),
          message: `unknown setting${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
        });
      }
      continue;
    }
    const missing = issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined;
    described.push({ setting: formatSettingPath(issue.path, root), message: missing ? 'Required' : issue.message });
  }
  return described;
}

/** A ConfigError for the first issue; the message lists every other issue on its own line. */
export function configErrorFromIssues(issues: readonly z.core.$ZodIssue[], options: IssueOptions = {}): ConfigError {
  const [first, ...rest] = describeIssues(issues, options);
  if (!first) return new ConfigError(options.root || '(root)', 'invalid configuration');
  const more = rest.map((issue) => `\n${issue.setting}: ${issue.message}`).join('');
  return new ConfigError(first.setting, `${first.message}${more}`);
}

/** The known key nearest to `key` by edit distance, when it is plausibly a typo. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.candidate : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

interface SchemaDefinition {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

function definitionOf(schema: z.ZodType): SchemaDefinition {
  return (schema as unknown as { _zod: { def: SchemaDefinition } })._zod.def;
}

/** The keys an object schema accepts at `path` (through wrappers, arrays, records and unions). */
export function objectKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const definition = definitionOf(schema);
  const inner = definition.innerType ?? (definition.type === 'pipe' ? definition.in : undefined);
  if (inner) return objectKeysAt(inner, path);
  if (definition.type === 'union' && definition.options) {
    return [...new Set(definition.options.flatMap((option) => objectKeysAt(option, path)))];
  }
  const [head, ...rest] = path;
  if (head === undefined) return definition.type === 'object' && definition.shape ? Object.keys(definition.shape) : [];
  if (definition.type === 'object' && definition.shape && typeof head === 'string') {
    const child = definition.shape[head];
    return child ? objectKeysAt(child, rest) : [];
  }
  if (definition.type === 'array' && definition.element) return objectKeysAt(definition.element, rest);
  if (definition.type === 'record' && definition.valueType) return objectKeysAt(definition.valueType, rest);
  return [];
}
