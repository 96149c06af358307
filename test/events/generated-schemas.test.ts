/**
 * The JSON Schemas are generated from the zod schemas (src/core/events/schemas.ts): the committed
 * files and what the stack publishes to the EventBridge schema registry must be exactly what the
 * generator makes. When this fails after a schema change: `npm run schemas`, and commit the files.
 */
import { describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { EventSchemas } from '../../lib/constructs/event-schemas.js';
import { schemaName } from '../../lib/event-schema-content.js';
import { DETAIL_TYPES } from '../../src/core/events/events.js';
import { detailJsonSchema, generatedSchemaFiles, registryEventSchema } from '../../src/events/json-schemas.js';

const ROOT = new URL('../../', import.meta.url);

/** Keywords draft-04 does not have (or reads differently): none may reach the registry's JSONSchemaDraft4. */
const AFTER_DRAFT_04 = new Set(['const', 'contains', 'propertyNames', 'if', 'then', 'else', 'examples', '$defs', 'prefixItems', 'unevaluatedProperties', 'dependentRequired']);

function keywordsOf(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) keywordsOf(item, into);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      into.add(key);
      // `properties` and `definitions` hold names, not keywords: look inside their values only.
      if (key === 'properties' || key === 'definitions') for (const child of Object.values(value as object)) keywordsOf(child, into);
      else keywordsOf(value, into);
    }
  }
  return into;
}

describe('generated JSON Schemas', () => {
  it.each(generatedSchemaFiles().map((file) => [file.path, file.text] as const))('%s is committed as generated (npm run schemas)', (path, text) => {
    expect(readFileSync(new URL(path, ROOT), 'utf8')).toBe(text);
  });

  it('the stack publishes to the registry exactly the generated whole-event schemas, as JSONSchemaDraft4', () => {
    const stack = new Stack(new App(), 'Schemas');
    new EventSchemas(stack, 'Schemas', { registryName: 'mesh-cert-watch' });
    const schemas = Object.values(Template.fromStack(stack).findResources('AWS::EventSchemas::Schema')).map((resource) => resource.Properties as Record<string, unknown>);
    expect(schemas.map((schema) => schema.SchemaName).sort()).toEqual(DETAIL_TYPES.map(schemaName).sort());
    for (const detailType of DETAIL_TYPES) {
      const schema = schemas.find((candidate) => candidate.SchemaName === schemaName(detailType))!;
      expect(schema.Type).toBe('JSONSchemaDraft4');
      expect(JSON.parse(String(schema.Content))).toEqual(registryEventSchema(detailType));
    }
  });

  it.each(DETAIL_TYPES)('the registry schema of %s uses draft-04 keywords only, and its references resolve', (detailType) => {
    const schema = registryEventSchema(detailType);
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect([...keywordsOf(schema)].filter((keyword) => AFTER_DRAFT_04.has(keyword))).toEqual([]);
    const definitions = Object.keys((schema.definitions ?? {}) as object);
    const refs = JSON.stringify(schema).match(/"\$ref":"[^"]*"/g) ?? [];
    for (const ref of refs) expect(definitions).toContain(ref.slice('"$ref":"#/definitions/'.length, -1));
    // The detail schema inside is the draft-07 one, but for the dialect's spelling (`const` -> `enum`).
    expect(Object.keys(schema.definitions as object).sort()).toEqual(Object.keys(detailJsonSchema(detailType).definitions as object).sort());
  });

  it('keep objects open (the contract changes by addition) and carry the field descriptions', () => {
    for (const detailType of DETAIL_TYPES) expect(JSON.stringify(detailJsonSchema(detailType))).not.toContain('"additionalProperties":false');
    const unhealthy = detailJsonSchema('Pod Certificate Unhealthy') as { properties: Record<string, { description?: string }> };
    expect(unhealthy.properties.sweepSummary?.description).toMatch(/breaker/);
    expect(unhealthy.properties.rotatedSinceLastSweep?.description).toMatch(/previous observation/);
  });
});
