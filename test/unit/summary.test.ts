import { describe, expect, it } from '@jest/globals';
import { compareByWorst, summarize, worstState } from '../../src/core/judgement/summary.js';
import { STATES, type State } from '../../src/core/model/types.js';

const pod = (namespace: string, name: string, state: State) => ({ namespace, name, state });

describe('summarize', () => {
  it('counts sampled pods per state and carries skipped', () => {
    const pods = [pod('a', '1', 'healthy'), pod('a', '2', 'healthy'), pod('b', '1', 'expired'), pod('b', '2', 'unreachable'), pod('c', '1', 'stale')];
    expect(summarize(pods, 3)).toEqual({ sampled: 5, skipped: 3, healthy: 2, stale: 1, expiring: 0, expired: 1, missing: 0, unreachable: 1 });
  });

  it('has a zero count for every state of an empty sweep', () => {
    const summary = summarize([], 0);
    expect(summary.sampled).toBe(0);
    for (const state of STATES) expect(summary[state]).toBe(0);
  });
});

describe('worstState', () => {
  it.each([
    [['healthy'], 'healthy'],
    [['healthy', 'stale'], 'stale'],
    [['stale', 'unreachable'], 'unreachable'],
    [['unreachable', 'missing'], 'missing'],
    [['missing', 'expiring', 'healthy'], 'expiring'],
    [['expired', 'expiring', 'missing', 'unreachable', 'stale', 'healthy'], 'expired'],
  ] as [State[], State][])('%p -> %s', (states, expected) => {
    expect(worstState(states)).toBe(expected);
  });

  it('is null for no states', () => {
    expect(worstState([])).toBeNull();
  });
});

describe('compareByWorst', () => {
  it('sorts worst state first, then namespace, then name', () => {
    const pods = [
      pod('shop', 'b', 'healthy'),
      pod('infra', 'z', 'stale'),
      pod('shop', 'a', 'healthy'),
      pod('auth', 'x', 'healthy'),
      pod('shop', 'c', 'expired'),
      pod('auth', 'y', 'unreachable'),
      pod('shop', 'd', 'missing'),
      pod('shop', 'e', 'expiring'),
    ];
    expect([...pods].sort(compareByWorst).map((p) => `${p.state} ${p.namespace}/${p.name}`)).toEqual([
      'expired shop/c',
      'expiring shop/e',
      'missing shop/d',
      'unreachable auth/y',
      'stale infra/z',
      'healthy auth/x',
      'healthy shop/a',
      'healthy shop/b',
    ]);
  });

  it('orders names by code point, independent of locale', () => {
    const pods = [pod('ns', 'b', 'healthy'), pod('ns', 'B', 'healthy'), pod('ns', 'a-2', 'healthy'), pod('ns', 'a-10', 'healthy')];
    expect([...pods].sort(compareByWorst).map((p) => p.name)).toEqual(['B', 'a-10', 'a-2', 'b']);
  });
});
