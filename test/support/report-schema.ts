/**
 * Checks a `sweep --output json` report against the contract: the zod schema (the one source,
 * src/core/events/schemas.ts) and the JSON Schema generated from it (src/cli/sweep-report.schema.json).
 */
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { SweepJsonReportSchema } from '../../src/core/events/schemas.js';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(new URL('../../src/cli/sweep-report.schema.json', import.meta.url), 'utf8')) as object);

/** Problems found ([] when the report is valid against both). */
export function reportSchemaProblems(report: unknown): string[] {
  const json = validate(report) ? [] : (validate.errors ?? []).map((e) => `json-schema ${e.instancePath} ${e.message}`);
  const parsed = SweepJsonReportSchema.safeParse(report);
  return [...json, ...(parsed.success ? [] : parsed.error.issues.map((issue) => `zod ${issue.path.join('.')}: ${issue.message}`))];
}
