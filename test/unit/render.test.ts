import { describe, expect, it } from '@jest/globals';
import { formatDuration, renderColumns, renderSummaryLine, renderSweepTable, renderVerdictTable } from '../../src/core/render/render.js';
import { summarize } from '../../src/core/judgement/summary.js';
import type { CertificateVerdict, PodReport } from '../../src/core/model/types.js';

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [119, '119s'],
    [120, '2m'],
    [125, '2m5s'],
    [599, '9m59s'],
    [600, '10m'],
    [2460, '41m'],
    [3599, '59m'],
    [3600, '1h'],
    [7380, '2h3m'],
    [7399, '2h3m'],
    [28799, '7h59m'],
    [28800, '8h'],
    [172799, '47h'],
    [172800, '2d'],
    [5 * 86400, '5d'],
    [5 * 86400 + 3 * 3600, '5d3h'],
    [8 * 86400 + 3 * 3600, '8d'],
    [729 * 86400, '729d'],
    [730 * 86400, '2y'],
    [800 * 86400, '2y70d'],
    [9 * 365 * 86400, '9y'],
    [-180, '-3m'],
    [-5, '-5s'],
    [-7380, '-2h3m'],
    [12.9, '12s'],
  ])('%p s -> %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('renderColumns', () => {
  it('pads every column but the last and trims trailing spaces', () => {
    expect(renderColumns([['A', 'BB', 'C'], ['aaaa', 'b', ''], ['a', 'bbbbb', 'c']])).toBe('A      BB      C\naaaa   b\na      bbbbb   c');
  });
});

const healthy: PodReport = {
  namespace: 'shop',
  name: 'carts-7d9f-abcde',
  uid: 'uid-1',
  serviceAccount: 'carts',
  node: 'ip-10-0-0-1',
  workload: { kind: 'Deployment', name: 'carts' },
  state: 'healthy',
  findings: [],
  source: 'tbot',
  certificate: {
    serialNumber: '0A1B',
    fingerprintSha256: 'AA:BB',
    spiffeId: 'spiffe://example.org/ns/shop/sa/carts',
    notBefore: '2030-01-01T00:00:00.000Z',
    notAfter: '2030-01-01T01:00:00.000Z',
    ageSeconds: 2460,
    remainingSeconds: 1140,
    lifetimeSeconds: 3600,
  },
  secrets: [
    { name: 'default', versionInfo: '2030-01-01T00:00:00.5Z', lastUpdated: '2030-01-01T00:40:00.000Z', pushAgeSeconds: 60 },
    { name: 'ROOTCA', versionInfo: null, lastUpdated: null, pushAgeSeconds: null },
  ],
};

const expired: PodReport = {
  ...healthy,
  namespace: 'payments',
  name: 'ledger-0',
  workload: { kind: 'StatefulSet', name: 'ledger' },
  state: 'expired',
  source: 'istio-agent',
  findings: ['sds-pushes-stopped', 'workload-certs-volume'],
  certificate: { ...healthy.certificate!, ageSeconds: 3780, remainingSeconds: -180 },
  secrets: [{ name: 'default', versionInfo: null, lastUpdated: null, pushAgeSeconds: null }],
};

const unreachable: PodReport = {
  ...healthy,
  namespace: 'shop',
  name: 'bare\u001b[31mpod',
  workload: null,
  state: 'unreachable',
  source: 'unknown',
  certificate: null,
  secrets: [],
  error: 'exec failed:\ncontainer istio-proxy not found',
};

describe('renderSweepTable', () => {
  it('renders kubectl-style rows, error lines and the summary line', () => {
    const pods = [expired, unreachable, healthy];
    const text = renderSweepTable({ pods, summary: summarize(pods, 2) });
    expect(text).toBe(
      [
        'NAMESPACE   NAME               WORKLOAD             STATE         SOURCE        AGE      REMAINING   PUSH-AGE   FINDINGS',
        'payments    ledger-0           StatefulSet/ledger   expired       istio-agent   1h3m     -3m         <none>     sds-pushes-stopped,workload-certs-volume',
        // Terminal control characters from pod data are blanked.
        'shop        bare [31mpod       <none>               unreachable   unknown       <none>   <none>      <none>     <none>',
        'shop        carts-7d9f-abcde   Deployment/carts     healthy       tbot          41m      19m         60s        <none>',
        '',
        'error shop/bare [31mpod: exec failed: container istio-proxy not found',
        '',
        'sampled 3, skipped 2: healthy 1, stale 0, expiring 0, expired 1, missing 0, unreachable 1',
        '',
      ].join('\n'),
    );
  });

  it('says so when no pod was sampled, and marks a partial sweep', () => {
    const text = renderSweepTable({ pods: [], summary: summarize([], 1), partial: true });
    expect(text).toBe(
      'No pods sampled.\n\nsampled 0, skipped 1: healthy 0, stale 0, expiring 0, expired 0, missing 0, unreachable 0 (partial: the deadline stopped the sweep before every pod was sampled)\n',
    );
  });

  it('shows no push age for a missing pod, even with a warming `default`', () => {
    const missing: PodReport = {
      ...healthy,
      state: 'missing',
      certificate: null,
      secrets: [{ name: 'default', versionInfo: 'uninitialized', lastUpdated: '2030-01-01T00:00:00.000Z', pushAgeSeconds: 30 }],
    };
    const row = renderSweepTable({ pods: [missing], summary: summarize([missing], 0) }).split('\n')[1] ?? '';
    expect(row.split(/\s{3,}/)).toEqual(['shop', 'carts-7d9f-abcde', 'Deployment/carts', 'missing', 'tbot', '<none>', '<none>', '<none>', '<none>']);
  });
});

describe('renderSummaryLine', () => {
  it('lists every state in order', () => {
    expect(renderSummaryLine({ sampled: 12, skipped: 1, healthy: 8, stale: 1, expiring: 1, expired: 0, missing: 1, unreachable: 1 })).toBe(
      'sampled 12, skipped 1: healthy 8, stale 1, expiring 1, expired 0, missing 1, unreachable 1',
    );
  });
});

describe('renderVerdictTable', () => {
  it('renders the verdict, the certificate and one row per secret', () => {
    expect(renderVerdictTable(healthy)).toBe(
      [
        'STATE           healthy',
        'SOURCE          tbot',
        'FINDINGS        <none>',
        'SPIFFE ID       spiffe://example.org/ns/shop/sa/carts',
        'SERIAL NUMBER   0A1B',
        'SHA-256         AA:BB',
        'NOT BEFORE      2030-01-01T00:00:00.000Z',
        'NOT AFTER       2030-01-01T01:00:00.000Z',
        'AGE             41m',
        'REMAINING       19m',
        'LIFETIME        1h',
        '',
        'SECRET    VERSION                  LAST UPDATED               PUSH-AGE',
        'default   2030-01-01T00:00:00.5Z   2030-01-01T00:40:00.000Z   60s',
        'ROOTCA    <none>                   <none>                     <none>',
        '',
      ].join('\n'),
    );
  });

  it('renders an unreachable verdict with its error and no certificate', () => {
    const verdict: CertificateVerdict = { state: 'unreachable', findings: [], source: 'unknown', certificate: null, secrets: [], error: 'bad\ndump' };
    expect(renderVerdictTable(verdict)).toBe(
      ['STATE         unreachable', 'SOURCE        unknown', 'FINDINGS      <none>', 'ERROR         bad dump', 'CERTIFICATE   <none>', '', 'No secrets.', ''].join('\n'),
    );
  });

  it('renders findings comma-separated and a leaf without SPIFFE ID as <none>', () => {
    const verdict: CertificateVerdict = {
      ...expired,
      certificate: { ...expired.certificate!, spiffeId: null },
    };
    const text = renderVerdictTable(verdict);
    expect(text).toContain('FINDINGS        sds-pushes-stopped,workload-certs-volume\n');
    expect(text).toContain('SPIFFE ID       <none>\n');
    expect(text).toContain('REMAINING       -3m\n');
  });
});
