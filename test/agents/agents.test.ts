/** The tbot agent as an object: image versions, the rotation-fix table, the upgrade advice, mapping. */
import { describe, expect, it } from '@jest/globals';
import { agentsByNode, agentsSection, imageVersion, judgeTbotVersion, tbotUpgradeAdvice, type AgentPod } from '../../src/core/judgement/agents.js';
import type { PodReport } from '../../src/core/model/types.js';
import { agentPod } from './agent-kit.js';

describe('imageVersion', () => {
  it.each([
    ['public.ecr.aws/gravitational/tbot-distroless:18.2.1', '18.2.1'],
    ['public.ecr.aws/gravitational/tbot-distroless:v18.5.0', '18.5.0'],
    ['registry.internal:5000/teleport/tbot:17.7.13', '17.7.13'],
    ['registry.internal:5000/teleport/tbot:18.6.4@sha256:' + 'a'.repeat(64), '18.6.4'],
    ['registry.internal:5000/teleport/tbot@sha256:' + 'b'.repeat(64), null],
    ['registry.internal:5000/teleport/tbot', null],
    ['tbot:latest', null],
    ['tbot:18.6', null],
    ['tbot:18.7.0-rc.1', '18.7.0-rc.1'],
    ['', null],
  ])('%s → %s', (image, version) => {
    expect(imageVersion(image)).toBe(version);
  });
  it('is null for a missing image', () => {
    expect(imageVersion(null)).toBeNull();
    expect(imageVersion(undefined)).toBeNull();
  });
});

describe('judgeTbotVersion', () => {
  const bugs = (version: string | null) => judgeTbotVersion(version).bugs.map((b) => b.id);
  it('knows both rotation fixes per major', () => {
    expect(bugs('18.6.3')).toEqual(['svid-not-pushed']);
    expect(bugs('18.6.4')).toEqual([]);
    expect(bugs('18.7.0')).toEqual([]);
    expect(bugs('18.0.0')).toEqual(['svid-not-pushed', 'workload-api-renewal']);
    expect(bugs('18.0.1')).toEqual(['svid-not-pushed']);
    expect(bugs('17.7.13')).toEqual(['svid-not-pushed']);
    expect(bugs('17.7.14')).toEqual([]);
    expect(bugs('17.5.4')).toEqual(['svid-not-pushed', 'workload-api-renewal']);
    expect(bugs('17.5.5')).toEqual(['svid-not-pushed']);
  });
  it('judges majors below 17 outdated, 19 and later not, an unknown version never', () => {
    expect(bugs('16.4.0')).toEqual(['svid-not-pushed', 'workload-api-renewal']);
    expect(judgeTbotVersion('16.4.0').upgradeTo).toBe('18.6.4');
    expect(bugs('19.0.0')).toEqual([]);
    expect(bugs(null)).toEqual([]);
    expect(judgeTbotVersion(null).upgradeTo).toBeNull();
  });
  it('counts a pre-release of the fix as before it, a build suffix not', () => {
    expect(bugs('18.6.4-rc.1')).toEqual(['svid-not-pushed']);
    expect(bugs('18.6.4-amd64')).toEqual([]);
  });
  it('recommends the fixed release of the same major', () => {
    expect(judgeTbotVersion('17.2.0').upgradeTo).toBe('17.7.14');
    expect(judgeTbotVersion('18.5.0').upgradeTo).toBe('18.6.4');
    expect(judgeTbotVersion('18.6.4').upgradeTo).toBeNull();
  });
});

describe('tbotUpgradeAdvice', () => {
  it('names the node and both versions', () => {
    expect(tbotUpgradeAdvice('ip-10-0-1-10.ec2.internal', '18.2.1')).toBe('upgrade tbot on node ip-10-0-1-10.ec2.internal (18.2.1 → 18.6.4)');
    expect(tbotUpgradeAdvice('n1', '17.6.0')).toBe('upgrade tbot on node n1 (17.6.0 → 17.7.14)');
    expect(tbotUpgradeAdvice('n1', '18.6.4')).toBeNull();
    expect(tbotUpgradeAdvice('n1', null)).toBeNull();
  });
});

const agent = (name: string, node: string, extra: Partial<AgentPod> = {}): AgentPod => agentPod(name, node, { createdAt: '2026-01-01T00:00:00Z', ...extra });

describe('agentsByNode', () => {
  it('prefers a Ready agent, then the newest, and skips unscheduled ones', () => {
    const map = agentsByNode([
      agent('old', 'n1', { terminating: true, ready: false }),
      agent('new', 'n1', { ready: true, createdAt: '2026-01-02T00:00:00Z' }),
      agent('pending', 'n2', { ready: false, createdAt: '2026-01-03T00:00:00Z' }),
      agent('ready', 'n2', { ready: true, createdAt: '2026-01-01T00:00:00Z' }),
      agent('nowhere', ''),
    ]);
    expect(map.get('n1')?.name).toBe('new');
    expect(map.get('n2')?.name).toBe('ready');
    expect(map.size).toBe(2);
  });
});

describe('agentsSection', () => {
  it('counts the pods served and unhealthy per agent, outdated agents first', () => {
    const pod = (name: string, node: string, state: PodReport['state'], agentPod?: string): PodReport => ({
      namespace: 'shop',
      name,
      uid: name,
      serviceAccount: 'sa',
      node,
      workload: null,
      state,
      findings: [],
      source: 'tbot',
      certificate: null,
      secrets: [],
      ...(agentPod ? { agent: { pod: agentPod, version: null } } : {}),
    });
    const section = agentsSection(
      [agent('a1', 'n1', { version: '18.6.4' }), agent('a2', 'n2'), agent('a3', 'n3', { version: null, image: 'tbot@sha256:00' })],
      [pod('p1', 'n1', 'healthy', 'a1'), pod('p2', 'n2', 'stale', 'a2'), pod('p3', 'n2', 'healthy', 'a2'), pod('p4', 'n3', 'expired')],
    );
    expect(section.map((a) => [a.node, a.outdated, a.upgradeTo, a.podsServed, a.podsUnhealthy])).toEqual([
      ['n2', true, '18.6.4', 2, 1],
      ['n1', false, null, 1, 0],
      ['n3', false, null, 0, 0],
    ]);
  });
});
