/**
 * What the EventBridge schema registry gets for each detail-type. The contract is the engine's:
 * the zod schemas in src/core/events/schemas.ts. The registry describes whole events, so each
 * detail schema is generated as draft-04 (the `JSONSchemaDraft4` type the registry takes) and
 * wrapped in the event envelope (src/events/json-schemas.ts). The committed draft-07 files in
 * src/events/schemas/ are generated from the same schemas (`npm run schemas`).
 */
import { readFileSync } from 'node:fs';
import { EVENT_SOURCE, type DetailType } from '../src/core/events/events.js';
import { detailSchemaBaseName, registryEventSchema, type JsonSchema } from '../src/events/json-schemas.js';

export const SCHEMAS_DIR = new URL('../src/events/schemas/', import.meta.url);

/** `Pod Certificate Unhealthy` -> `pod-certificate-unhealthy.schema.json`. */
export function detailSchemaFile(detailType: DetailType): URL {
  return new URL(`${detailSchemaBaseName(detailType)}.schema.json`, SCHEMAS_DIR);
}

/** The committed detail schema (draft-07), as consumers read it. */
export function detailSchema(detailType: DetailType): JsonSchema {
  return JSON.parse(readFileSync(detailSchemaFile(detailType), 'utf8')) as JsonSchema;
}

/** The whole-event schema published to the registry (generated from the zod schema). */
export function eventSchema(detailType: DetailType): JsonSchema {
  return registryEventSchema(detailType);
}

/** `mesh-cert-watch@PodCertificateUnhealthy`: the name EventBridge schema discovery would give. */
export function schemaName(detailType: DetailType): string {
  return `${EVENT_SOURCE}@${detailType.replace(/\s+/g, '')}`;
}
