/** Legacy discovery, which kubectl reads before it lists or execs (the bench's kubectl loop needs it). */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApisApi, AppsV1Api, CoreApi, CoreV1Api } from '@kubernetes/client-node';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';

describe('emulator discovery', () => {
  let emulator: KubeApiEmulator;
  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('serves /api, /api/v1 (with pods/exec), /apis and each group version', async () => {
    const config = emulator.kubeConfig();
    expect((await config.makeApiClient(CoreApi).getAPIVersions()).versions).toEqual(['v1']);
    const core = await config.makeApiClient(CoreV1Api).getAPIResources();
    expect(core.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/exec', 'namespaces']));
    expect(core.resources.find((r) => r.name === 'namespaces')?.namespaced).toBe(false);
    const groups = await config.makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'argoproj.io']));
    const apps = await config.makeApiClient(AppsV1Api).getAPIResources();
    expect(apps.groupVersion).toBe('apps/v1');
    expect(apps.resources.map((r) => r.name).sort()).toEqual(['daemonsets', 'deployments', 'replicasets', 'statefulsets']);
  });
});
