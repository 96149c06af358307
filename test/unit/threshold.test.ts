import { describe, expect, it } from '@jest/globals';
import { ThresholdError } from '../../src/core/model/errors.js';
import { thrown } from './core-test-kit.js';
import { DEFAULT_THRESHOLDS, formatThresholds, parseClockSkewAllowance, parseThreshold, thresholdSeconds } from '../../src/core/model/threshold.js';

describe('parseThreshold', () => {
  it.each([
    ['90s', 90],
    ['36m', 2160],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2h0m5s', 7205],
    ['1.5h', 5400],
    ['0.5m', 30],
    ['2000ms', 2],
    ['1500ms500ms', 2],
    ['3000000us', 3],
    ['4000000000ns', 4],
    ['1m30s', 90],
    [' 45m ', 2700],
  ])('accepts the duration %p as %p seconds', (text, seconds) => {
    expect(parseThreshold(text)).toEqual({ kind: 'duration', seconds, text: text.trim() });
  });

  it.each([
    ['60%', 60],
    ['20%', 20],
    ['12.5%', 12.5],
    ['0.1%', 0.1],
    ['99.9%', 99.9],
    ['.5%', 0.5],
  ])('accepts the percentage %p', (text, percent) => {
    expect(parseThreshold(text)).toEqual({ kind: 'percent', percent, text });
  });

  it.each([
    ['', 'not a duration or a percentage'],
    ['60', 'not a duration or a percentage'],
    ['1d', 'not a duration or a percentage'],
    ['1H', 'not a duration or a percentage'],
    ['-5m', 'not a duration or a percentage'],
    ['1h 30m', 'not a duration or a percentage'],
    ['m', 'not a duration or a percentage'],
    ['abc', 'not a duration or a percentage'],
    ['60 %', 'not a duration or a percentage'],
    ['60.%', 'not a duration or a percentage'],
    ['%', 'not a duration or a percentage'],
    ['500ms', 'not a whole number of seconds'],
    ['1.5s', 'not a whole number of seconds'],
    ['1.0000000001s', 'finer than one nanosecond'],
    ['0s', 'longer than 0s'],
    ['0h0m', 'longer than 0s'],
    ['0%', 'above 0% and below 100%'],
    ['100%', 'above 0% and below 100%'],
    ['150%', 'above 0% and below 100%'],
  ])('rejects %p (%s)', (text, reason) => {
    const caught = thrown(() => parseThreshold(text));
    expect(caught).toBeInstanceOf(ThresholdError);
    const message = (caught as ThresholdError).message;
    expect(message).toContain(`invalid threshold ${JSON.stringify(text)}`);
    expect(message).toContain(reason);
    expect(message).toContain('accepted forms');
    expect(message).toContain('1h30m');
    expect(message).toContain('60%');
    expect((caught as ThresholdError).code).toBe('THRESHOLD');
  });

  it('shortens very long bad input in the message', () => {
    const text = 'x'.repeat(500);
    const error = thrown(() => parseThreshold(text));
    expect(error).toBeInstanceOf(ThresholdError);
    expect(error.message).not.toContain(text);
    expect(error.message).toContain(`"${'x'.repeat(40)}…"`);
  });
});

describe('thresholdSeconds', () => {
  it('returns the duration whatever the lifetime', () => {
    expect(thresholdSeconds(parseThreshold('36m'), 3600)).toBe(2160);
    expect(thresholdSeconds(parseThreshold('36m'), 86400)).toBe(2160);
  });

  it('applies a percentage to the lifetime without rounding', () => {
    expect(thresholdSeconds(parseThreshold('60%'), 3600)).toBe(2160);
    expect(thresholdSeconds(parseThreshold('20%'), 3600)).toBe(720);
    expect(thresholdSeconds(parseThreshold('60%'), 86520)).toBe(51912);
    expect(thresholdSeconds(parseThreshold('50%'), 3601)).toBe(1800.5);
    expect(thresholdSeconds(parseThreshold('12.5%'), 3600)).toBe(450);
  });

  it('treats a negative lifetime as zero', () => {
    expect(thresholdSeconds(parseThreshold('60%'), -10)).toBe(0);
  });
});

describe('defaults and formatting', () => {
  it('defaults to stale after 60% and expiring within 20%', () => {
    expect(DEFAULT_THRESHOLDS.staleAfter).toEqual(parseThreshold('60%'));
    expect(DEFAULT_THRESHOLDS.expiringWithin).toEqual(parseThreshold('20%'));
    expect(formatThresholds(DEFAULT_THRESHOLDS)).toEqual({ staleAfter: '60%', expiringWithin: '20%', clockSkewAllowance: '60s' });
  });

  it('reports thresholds as the user wrote them', () => {
    expect(formatThresholds({ staleAfter: parseThreshold('1h30m'), expiringWithin: parseThreshold('12.5%') })).toEqual({
      staleAfter: '1h30m',
      expiringWithin: '12.5%',
      clockSkewAllowance: '60s',
    });
  });
});

describe('parseClockSkewAllowance', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['0m', 0],
    ['30s', 30],
    ['1m', 60],
    ['5m', 300],
    ['1h', 3600],
  ])('%p -> %d s', (text, seconds) => {
    expect(parseClockSkewAllowance(text)).toBe(seconds);
  });

  it.each([
    ['10%', /a duration \(such as 1m\), not a percentage/],
    ['1h0m1s', /at most 60m/],
    ['-1m', /a whole-second duration/],
    ['500ms', /a whole-second duration/],
    ['', /a whole-second duration/],
  ])('refuses %p', (text, message) => {
    expect(() => parseClockSkewAllowance(text)).toThrow(message);
  });

  it('reports the allowance in force with the thresholds', () => {
    expect(formatThresholds({ ...DEFAULT_THRESHOLDS, clockSkewAllowanceSeconds: 0 }).clockSkewAllowance).toBe('0s');
  });
});
