/**
 * An in-process EventBridge event-pattern matcher for the subset of the pattern language the
 * stack uses: exact values (strings, numbers, booleans, null), nested objects, `$or`, and the
 * `exists` / `prefix` / `anything-but` filters. Its verdicts are checked against moto's
 * EventBridge in the AWS tier (test/aws-moto/), so this file does not define the semantics alone.
 * The CDK tests check the stack's rule patterns with it; the demo's local event bus routes with it.
 */
type Pattern = Readonly<Record<string, unknown>>;

const MISSING = Symbol('missing');

export function matchesEventPattern(pattern: Pattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: Pattern, value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or') {
      if (!Array.isArray(rule) || rule.length < 2) throw new Error('$or takes an array of at least two patterns');
      return rule.some((alternative: Pattern) => matchObject(alternative, value));
    }
    const field = key in value ? value[key] : MISSING;
    if (Array.isArray(rule)) return matchValues(rule, field);
    if (isPlainObject(rule)) return field !== MISSING && matchObject(rule, field);
    throw new Error(`pattern field ${key} must be an array or an object`);
  });
}

/** A leaf: the field (or, for an array field, any element) must match any of the rules. */
function matchValues(rules: readonly unknown[], field: unknown): boolean {
  if (rules.length === 0) throw new Error('empty match arrays are not allowed');
  return rules.some((rule) => {
    if (isPlainObject(rule)) return matchFilter(rule, field);
    if (field === MISSING) return false;
    const candidates = Array.isArray(field) ? field : [field];
    return candidates.some((candidate) => candidate === rule);
  });
}

function matchFilter(filter: Pattern, field: unknown): boolean {
  const [[name, argument]] = Object.entries(filter) as [[string, unknown]];
  if (name === 'exists') return (field !== MISSING) === argument;
  if (field === MISSING) return false;
  const candidates = Array.isArray(field) ? field : [field];
  switch (name) {
    case 'prefix':
      return candidates.some((candidate) => typeof candidate === 'string' && candidate.startsWith(String(argument)));
    case 'anything-but': {
      const excluded = Array.isArray(argument) ? argument : [argument];
      return candidates.some((candidate) => !excluded.includes(candidate));
    }
    default:
      throw new Error(`filter ${name} is not supported by this matcher`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
