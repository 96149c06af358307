import { beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { DETAIL_TYPES } from '../../src/core/events/events.js';
import { detailSchema, eventSchema } from '../../lib/event-schema-content.js';
import { matchesEventPattern } from '../../src/sandbox/emulator/event-pattern-matcher.js';
import { SAMPLE_EVENTS, samplesOf } from './support/sample-events.js';
import { exampleConfigInput, resourceByPrefix, synthesize } from './support/synth.js';

type Pattern = Record<string, unknown>;

/** The two rules' patterns as CloudFormation will create them. */
function rulePatterns(input = exampleConfigInput()): { remediator: Pattern; notifier: Pattern } {
  const { template } = synthesize(input);
  return {
    remediator: resourceByPrefix(template, 'AWS::Events::Rule', 'EventsRemediatorRule').Properties.EventPattern as Pattern,
    notifier: resourceByPrefix(template, 'AWS::Events::Rule', 'EventsNotifierRule').Properties.EventPattern as Pattern,
  };
}

let patterns: { remediator: Pattern; notifier: Pattern };
beforeAll(() => {
  patterns = rulePatterns();
});

describe('sample events', () => {
  // Cached per schema object: ajv refuses two schemas with one $id.
  const ajv = new Ajv({ strict: false, allErrors: true, addUsedSchema: false });
  addFormats.default(ajv);

  it.each(SAMPLE_EVENTS.map((sample) => [sample.name, sample] as const))('%s has a detail valid against its detail-type schema', (_name, sample) => {
    const validate = ajv.compile(detailSchema(sample.event['detail-type']));
    const valid = validate(sample.event.detail);
    expect(valid ? [] : validate.errors).toEqual([]);
  });

  it('from our source are valid against the whole-event schema published to the registry', () => {
    for (const detailType of DETAIL_TYPES) {
      const { $schema: draft, ...schema } = eventSchema(detailType);
      expect(draft).toBe('http://json-schema.org/draft-04/schema#');
      const validate = ajv.compile(schema);
      for (const sample of samplesOf(detailType)) {
        const valid = validate(sample.event);
        expect(valid ? [] : validate.errors).toEqual([]);
      }
    }
  });

  it('from another source are rejected by the whole-event schema', () => {
    const foreign = SAMPLE_EVENTS.filter((sample) => sample.event.source !== 'mesh-cert-watch');
    expect(foreign.length).toBeGreaterThan(0);
    for (const sample of foreign) {
      const { $schema: _draft, ...schema } = eventSchema(sample.event['detail-type']);
      expect(ajv.validate(schema, sample.event)).toBe(false);
    }
  });

  it('cover every detail-type', () => {
    for (const detailType of DETAIL_TYPES) expect(samplesOf(detailType).length).toBeGreaterThan(0);
  });
});

describe('remediator rule (synthesized pattern)', () => {
  it.each(SAMPLE_EVENTS.map((sample) => [sample.name, sample.remediator, sample] as const))(
    '%s -> matches: %s',
    (_name, expected, sample) => {
      expect(matchesEventPattern(patterns.remediator, sample.event)).toBe(expected);
    },
  );

  it('follows the policy: restart states stale, expiring, expired also match stale pods', () => {
    const input = exampleConfigInput();
    const { remediator } = rulePatterns({
      ...input,
      remediation: { ...input.remediation, restartStates: ['stale', 'expiring', 'expired'] },
    });
    const matched = SAMPLE_EVENTS.filter((sample) => matchesEventPattern(remediator, sample.event)).map((sample) => sample.name);
    expect(matched).toEqual(['unhealthy expiring', 'unhealthy expired', 'unhealthy stale', 'unhealthy stale, not definite', 'unhealthy stale, proven across sweeps']);
  });

  it('routes only the restart states when remediation.actOnProvenStale is off', () => {
    const input = exampleConfigInput();
    const { remediator } = rulePatterns({ ...input, remediation: { ...input.remediation, actOnProvenStale: false } });
    const matched = SAMPLE_EVENTS.filter((sample) => matchesEventPattern(remediator, sample.event)).map((sample) => sample.name);
    expect(matched).toEqual(['unhealthy expiring', 'unhealthy expired']);
  });
});

describe('notifier rule (synthesized pattern)', () => {
  it.each(SAMPLE_EVENTS.map((sample) => [sample.name, sample.notifier, sample] as const))('%s -> matches: %s', (_name, expected, sample) => {
    expect(matchesEventPattern(patterns.notifier, sample.event)).toBe(expected);
  });
});

describe('matchesEventPattern', () => {
  const event = { source: 's', detail: { state: 'expired', tags: ['a', 'b'], flag: false, nested: { n: 1 } } };

  it('matches exact values, any element of an array field, and nested objects', () => {
    expect(matchesEventPattern({ source: ['s'], detail: { state: ['expiring', 'expired'] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { tags: ['b'] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { nested: { n: [1] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { nested: { n: [2] } } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: ['stale'] } }, event)).toBe(false);
  });

  it('does not confuse false, missing and absent objects', () => {
    expect(matchesEventPattern({ detail: { flag: [false] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { flag: [true] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { partial: [true] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: { n: [1] } } }, event)).toBe(false);
  });

  it('supports $or, exists, prefix and anything-but', () => {
    expect(matchesEventPattern({ detail: { $or: [{ state: ['x'] }, { flag: [false] }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { $or: [{ state: ['x'] }, { flag: [true] }] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { partial: [{ exists: false }], state: [{ exists: true }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ prefix: 'exp' }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': ['expired'] }] } }, event)).toBe(false);
  });

  it('rejects patterns outside the supported subset instead of guessing', () => {
    expect(() => matchesEventPattern({ detail: { state: [{ wildcard: 'e*' }] } }, event)).toThrow('not supported');
    expect(() => matchesEventPattern({ detail: { state: [] } }, event)).toThrow('empty');
  });
});
