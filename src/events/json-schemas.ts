/**
 * The JSON Schemas of the contract, GENERATED from the zod schemas (src/core/events/schemas.ts):
 * - one draft-07 schema per detail-type's `detail`, committed in src/events/schemas/ for
 *   consumers that validate events (and the tests' ajv checks);
 * - the JSON report of `sweep --output json`, committed as src/cli/sweep-report.schema.json;
 * - what the stack publishes to the EventBridge schema registry (lib/event-schema-content.ts):
 *   the same detail, generated as draft-04 (the registry's `JSONSchemaDraft4` type) and wrapped
 *   in the event envelope.
 * `npm run schemas` rewrites the committed files; test/events/generated-schemas.test.ts fails when
 * they, or the synthesized registry schemas, differ from what this module generates.
 *
 * Not imported by any Lambda: toJSONSchema stays out of the bundles.
 */
import * as z from 'zod';
import { DETAIL_TYPES, EVENT_SOURCE, type DetailType } from '../core/events/events.js';
import { DETAIL_SCHEMAS, SweepJsonReportSchema } from '../core/events/schemas.js';

export type JsonSchema = Record<string, unknown>;
export type JsonSchemaTarget = 'draft-07' | 'draft-04';

/**
 * Keeps the generated schemas as readable as the hand-written ones were: `format: date-time`
 * says what zod's long RFC 3339 pattern says; the safe-integer bounds zod adds to every integer
 * say nothing a JSON number needs; a lone `allOf: [{ $ref }]` (zod's wrapper for an optional
 * reference) is the reference itself.
 */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node as JsonSchema);
  const schema = Object.fromEntries(entries.map(([key, value]) => [key, tidy(value)])) as JsonSchema;
  if (schema.format === 'date-time') delete schema.pattern;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('integer')) {
    if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
    if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
  }
  const keys = Object.keys(schema);
  if (keys.length === 1 && Array.isArray(schema.allOf) && schema.allOf.length === 1) return schema.allOf[0];
  return schema;
}

function generate(schema: z.ZodType, target: JsonSchemaTarget, id: string): JsonSchema {
  // io 'input': objects stay open (no `additionalProperties: false`): the contract grows by addition.
  const generated = tidy(z.toJSONSchema(schema, { target, io: 'input', unrepresentable: 'throw' })) as JsonSchema;
  const { $schema, title, description, ...rest } = generated;
  return { $schema, $id: id, title, description, ...rest };
}

/** `Pod Certificate Unhealthy` -> `pod-certificate-unhealthy`. */
export function detailSchemaBaseName(detailType: DetailType): string {
  return detailType.toLowerCase().replace(/\s+/g, '-');
}

/** The `detail` schema of one detail-type. */
export function detailJsonSchema(detailType: DetailType, target: JsonSchemaTarget = 'draft-07'): JsonSchema {
  return generate(DETAIL_SCHEMAS[detailType], target, `urn:mesh-cert-watch:events:${detailSchemaBaseName(detailType)}`);
}

/** The JSON report of `sweep --output json` (docs/contract.md §4.1). */
export function sweepReportJsonSchema(): JsonSchema {
  return generate(SweepJsonReportSchema, 'draft-07', 'urn:mesh-cert-watch:report:sweep');
}

/**
 * The whole-event schema published to the registry: the draft-04 detail schema inside the event
 * envelope, its `definitions` hoisted to the root (where its `#/definitions/...` references point).
 */
export function registryEventSchema(detailType: DetailType): JsonSchema {
  const { $schema: _draft, $id: _id, title: _title, definitions, ...detail } = detailJsonSchema(detailType, 'draft-04');
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: detailType,
    description: `EventBridge event "${detailType}" from source ${EVENT_SOURCE}`,
    type: 'object',
    required: ['source', 'detail-type', 'detail'],
    properties: {
      version: { type: 'string' },
      id: { type: 'string' },
      account: { type: 'string' },
      region: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      resources: { type: 'array', items: { type: 'string' } },
      source: { type: 'string', enum: [EVENT_SOURCE] },
      'detail-type': { type: 'string', enum: [detailType] },
      detail,
    },
    ...(definitions ? { definitions } : {}),
  };
}

/** The committed files, relative to the repository root, and their generated text. */
export function generatedSchemaFiles(): { readonly path: string; readonly text: string }[] {
  const text = (schema: JsonSchema) => `${JSON.stringify(schema, null, 2)}\n`;
  return [
    ...DETAIL_TYPES.map((detailType) => ({ path: `src/events/schemas/${detailSchemaBaseName(detailType)}.schema.json`, text: text(detailJsonSchema(detailType)) })),
    { path: 'src/cli/sweep-report.schema.json', text: text(sweepReportJsonSchema()) },
  ];
}
