import { describe, expect, it } from '@jest/globals';
import { KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import middy from '@middy/core';

describe('ESM toolchain', () => {
  it('loads ESM-only client-node and middy under jest on Node >= 22', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
    expect(new KubeConfig()).toBeInstanceOf(KubeConfig);
    expect(PatchStrategy.StrategicMergePatch).toBe('application/strategic-merge-patch+json');
    expect(typeof middy).toBe('function');
  });
});
