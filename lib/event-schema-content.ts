/**
 * What the EventBridge schema registry gets for each detail-type. The contract is the engine's:
 * detail shapes in src/core/events/events.ts, their JSON schemas in src/events/schemas/. The registry
 * describes whole events, so each detail schema is wrapped in the event envelope (its
 * `definitions` hoisted to the root, where its `#/definitions/...` references point) and
 * labelled draft-04, the JSON Schema flavour the registry takes; the schemas use no keyword
 * whose meaning differs between draft-04 and draft-07.
 */
import { readFileSync } from 'node:fs';
import { EVENT_SOURCE, type DetailType } from '../src/core/events/events.js';

type JsonSchema = Record<string, unknown>;

export const SCHEMAS_DIR = new URL('../src/events/schemas/', import.meta.url);

/** `Pod Certificate Unhealthy` -> `pod-certificate-unhealthy.schema.json`. */
export function detailSchemaFile(detailType: DetailType): URL {
  return new URL(`${detailType.toLowerCase().replace(/\s+/g, '-')}.schema.json`, SCHEMAS_DIR);
}

/** The detail schema as the engine publishes it (draft-07). */
export function detailSchema(detailType: DetailType): JsonSchema {
  return JSON.parse(readFileSync(detailSchemaFile(detailType), 'utf8')) as JsonSchema;
}

/** The whole-event schema published to the registry. */
export function eventSchema(detailType: DetailType): JsonSchema {
  const { $schema: _draft, $id: _id, definitions, title: _title, ...detail } = detailSchema(detailType);
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

/** `mesh-cert-watch@PodCertificateUnhealthy`: the name EventBridge schema discovery would give. */
export function schemaName(detailType: DetailType): string {
  return `${EVENT_SOURCE}@${detailType.replace(/\s+/g, '')}`;
}

