import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/model/errors.js';
import { loadDeploymentConfig } from '../../lib/config/load-config.js';

const minimal = { region: 'eu-west-1', clusters: [{ name: 'prod' }], notifications: { slackWebhookSecret: 'slack/webhook' } };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcw-config-'));
  writeFileSync(join(dir, 'good.json'), JSON.stringify(minimal));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...minimal, clusters: [{ name: 'a' }, { name: 'b', schedule: { rateMinutes: 0 } }] }));
  writeFileSync(join(dir, 'broken.json'), '{ "region": ');
  writeFileSync(join(dir, 'config.mjs'), `export default ${JSON.stringify({ ...minimal, name: 'from-module' })};`);
  writeFileSync(join(dir, 'config.yaml'), 'region: eu-west-1');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function errorOf(value: unknown): Promise<ConfigError> {
  try {
    await loadDeploymentConfig(value, dir);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('loadDeploymentConfig', () => {
  it('reads a JSON file relative to the app directory', async () => {
    const loaded = await loadDeploymentConfig('good.json', dir);
    expect([loaded.source, loaded.config.clusters[0]?.name]).toEqual([join(dir, 'good.json'), 'prod']);
  });

  it("loads a module's default export", async () => {
    expect((await loadDeploymentConfig(join(dir, 'config.mjs'), dir)).config.name).toBe('from-module');
  });

  it('takes an inline object from cdk.json context', async () => {
    expect((await loadDeploymentConfig(minimal, dir)).source).toBe('context');
  });

  it('names the exact setting of an invalid configuration', async () => {
    const error = await errorOf('bad.json');
    expect(error.setting).toBe('clusters[1].schedule.rateMinutes');
    expect(error.message).toBe('clusters[1].schedule.rateMinutes: Too small: expected number to be >=1');
  });

  it('explains a missing, unreadable, malformed or unsupported file under the config setting', async () => {
    expect((await errorOf(undefined)).message).toMatch(/^config: no deployment configuration: pass -c config=/);
    expect((await errorOf('absent.json')).message).toMatch(/^config: cannot read .*absent\.json/);
    expect((await errorOf('broken.json')).message).toMatch(/^config: .*broken\.json is not valid JSON/);
    expect((await errorOf('config.yaml')).message).toMatch(/^config: .*config\.yaml: expected a \.json, \.ts, \.mts, \.js or \.mjs file$/);
  });
});
