/**
 * Namespace include/exclude: what the sweep lists (pod discovery against the emulator) and the
 * matching scope for change detection.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../src/core/model/errors.js';
import type { PodListing } from '../../src/core/model/pods.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { listPods, type ListOptions } from '../../src/kube/pod-discovery.js';
import { namespaceSelection } from '../../src/sampler/sweep-cluster.js';

describe('namespaceSelection', () => {
  it('sweeps everything when include and exclude are empty', () => {
    expect(namespaceSelection({ include: [], exclude: [] })).toEqual({ list: {}, scope: 'all' });
  });

  it('lists cluster-wide and drops excluded namespaces when include is empty', () => {
    expect(namespaceSelection({ include: [], exclude: ['kube-system', 'kube-system', 'istio-system'] })).toEqual({
      list: { excludeNamespaces: ['kube-system', 'istio-system'] },
      scope: { allExcept: ['kube-system', 'istio-system'] },
    });
  });

  it('lists only the included namespaces, exclude winning over include', () => {
    expect(namespaceSelection({ include: ['shop', 'data', 'shop'], exclude: ['data'] })).toEqual({ list: { namespaces: ['shop'] }, scope: ['shop'] });
  });

  it('refuses an include list that exclude empties (it would otherwise mean all namespaces)', () => {
    expect(() => namespaceSelection({ include: ['data'], exclude: ['data'] }, 'clusters[0].namespaces')).toThrow(ConfigError);
    expect(() => namespaceSelection({ include: ['data'], exclude: ['data'] }, 'clusters[0].namespaces')).toThrow(/^clusters\[0\]\.namespaces\.include: /);
  });
});

describe('listPods with excludeNamespaces', () => {
  let emulator: KubeApiEmulator;
  let client: KubeClient;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
    const mesh = new Mesh(emulator);
    for (const ns of ['shop', 'data', 'kube-system']) mesh.addNamespace(ns);
    mesh.addDeployment('shop', 'carts', { replicas: 2 });
    mesh.addDeployment('data', 'db');
    mesh.addDeployment('data', 'starting', { podPhase: 'Pending' });
    mesh.addDeployment('kube-system', 'coredns');
    mesh.addDeployment('kube-system', 'booting', { podPhase: 'Pending' });
    client = new KubeClient(emulator.kubeConfig());
  });

  afterAll(async () => {
    await emulator.close();
  });

  async function listed(options: ListOptions): Promise<string[]> {
    const out: string[] = [];
    for await (const listing of listPods(client, { pageSize: 2, ...options }) as AsyncIterable<PodListing>) {
      out.push(listing.kind === 'target' ? `${listing.target.namespace}/${listing.target.name.split('-')[0]}` : `skipped ${listing.namespace}/${listing.name.split('-')[0]}`);
    }
    return out.sort();
  }

  it('drops excluded pods before sampling: neither targets nor counted as skipped', async () => {
    emulator.requests.clear();
    expect(await listed({ excludeNamespaces: ['kube-system'] })).toEqual(['data/db', 'shop/carts', 'shop/carts', 'skipped data/starting']);
    // Still one cluster-wide list (paged), not one list per namespace.
    expect(new Set(emulator.requests.map((r) => r.path))).toEqual(new Set(['/api/v1/pods']));
  });

  it('does not list an included namespace that is also excluded', async () => {
    emulator.requests.clear();
    expect(await listed({ namespaces: ['shop', 'kube-system'], excludeNamespaces: ['kube-system'] })).toEqual(['shop/carts', 'shop/carts']);
    expect(new Set(emulator.requests.map((r) => r.path))).toEqual(new Set(['/api/v1/namespaces/shop/pods']));
  });

  it('lists everything without options (unchanged behaviour)', async () => {
    expect(await listed({})).toEqual(['data/db', 'kube-system/coredns', 'shop/carts', 'shop/carts', 'skipped data/starting', 'skipped kube-system/booting']);
  });
});
