/**
 * Reading an event detail with its contract schema (./schemas.ts): the remediator and the notifier
 * parse what they receive here, and nowhere else. A detail that does not fit is refused with an
 * InvalidEventError naming the exact field (`detail.pods[0].state`), the ZodError as its `cause`.
 */
import type * as z from 'zod';
import { formatPath, InvalidEventError } from '../model/errors.js';

/** The zod issue as one short sentence: a missing field is `required`, not "received undefined". */
function issueMessage(issue: z.core.$ZodIssue, others: number): string {
  const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
  const text = missing ? 'required' : issue.message;
  return others > 0 ? `${text} (and ${others} more ${others === 1 ? 'problem' : 'problems'})` : text;
}

/** The InvalidEventError for a ZodError: its first issue, at its path under `root`. */
export function invalidEventFromZod(error: z.ZodError, root: string): InvalidEventError {
  const [first, ...rest] = error.issues;
  if (!first) return new InvalidEventError(root, 'does not match the contract', { cause: error });
  return new InvalidEventError(formatPath(first.path, root), issueMessage(first, rest.length), { cause: error });
}

/** `value` parsed with `schema`, or an InvalidEventError naming the field at fault under `root`. */
export function parseDetail<S extends z.ZodType>(schema: S, value: unknown, root = 'detail'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidEventFromZod(result.error, root);
  return result.data;
}
