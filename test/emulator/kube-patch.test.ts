import { describe, expect, it } from '@jest/globals';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from '../../src/sandbox/emulator/kube-patch.js';

const deployment = {
  metadata: { name: 'carts', labels: { app: 'carts', tier: 'web' } },
  spec: {
    template: {
      spec: {
        containers: [
          { name: 'carts', image: 'carts:1', env: [{ name: 'A', value: '1' }] },
          { name: 'istio-proxy', image: 'proxyv2:1' },
        ],
      },
    },
  },
};

describe('patch algorithms', () => {
  it('merge patch: objects merge, null deletes, lists are replaced, inputs untouched', () => {
    const before = JSON.stringify(deployment);
    const out = applyMergePatch(deployment, {
      metadata: { labels: { tier: null, team: 'a' } },
      spec: { template: { spec: { containers: [{ name: 'only' }] } } },
    }) as typeof deployment & { metadata: { labels: Record<string, string> } };
    expect(out.metadata.labels).toEqual({ app: 'carts', team: 'a' });
    expect(out.spec.template.spec.containers).toEqual([{ name: 'only' }]);
    expect(JSON.stringify(deployment)).toBe(before);
  });

  it('strategic merge: named lists merge by name, $patch: delete removes, directives are ignored', () => {
    const out = applyStrategicMergePatch(deployment, {
      $setElementOrder: [],
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'carts', image: 'carts:2' },
              { name: 'istio-proxy', $patch: 'delete' },
              { name: 'debug', image: 'busybox' },
            ],
          },
        },
      },
    }) as typeof deployment;
    expect(out.spec.template.spec.containers).toEqual([
      { name: 'carts', image: 'carts:2', env: [{ name: 'A', value: '1' }] },
      { name: 'debug', image: 'busybox' },
    ]);
    expect(out).not.toHaveProperty('$setElementOrder');
  });

  it('JSON patch: add/replace/remove/move/copy/test with pointer escaping', () => {
    const out = applyJsonPatch(deployment, [
      { op: 'add', path: '/metadata/annotations', value: {} },
      { op: 'add', path: '/metadata/annotations/kubectl.kubernetes.io~1restartedAt', value: 'now' },
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'carts:3' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'last' } },
      { op: 'remove', path: '/spec/template/spec/containers/1' },
      { op: 'copy', from: '/metadata/name', path: '/metadata/labels/copied' },
      { op: 'move', from: '/metadata/labels/tier', path: '/metadata/labels/moved' },
      { op: 'test', path: '/metadata/labels/moved', value: 'web' },
    ]) as { metadata: Record<string, Record<string, string>>; spec: typeof deployment.spec };
    expect(out.metadata.annotations).toEqual({ 'kubectl.kubernetes.io/restartedAt': 'now' });
    expect(out.metadata.labels).toEqual({ app: 'carts', copied: 'carts', moved: 'web' });
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual(['carts', 'last']);
    expect(out.spec.template.spec.containers[0]!.image).toBe('carts:3');
  });

  it('JSON patch: a failed test or a missing path throws PatchError', () => {
    expect(() => applyJsonPatch(deployment, [{ op: 'test', path: '/metadata/name', value: 'orders' }])).toThrow(PatchError);
    expect(() => applyJsonPatch(deployment, [{ op: 'remove', path: '/metadata/annotations/x' }])).toThrow(PatchError);
    expect(() => applyJsonPatch(deployment, [{ op: 'replace', path: '/spec/template/spec/containers/5', value: 1 }])).toThrow(PatchError);
    expect(() => applyJsonPatch(deployment, { op: 'add' })).toThrow('cannot unmarshal object');
  });
});
