/**
 * Finds the deployment configuration named by the `config` context key (`cdk synth -c config=FILE`
 * or `"context": {"config": ...}` in cdk.json) and validates it.
 */
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, describeError } from '../../src/core/model/errors.js';
import { parseDeploymentConfig, type DeploymentConfig } from '../../src/config/deployment.js';

export const CONFIG_CONTEXT_KEY = 'config';

export interface LoadedConfig {
  readonly config: DeploymentConfig;
  /** The file it came from, or `context` for an inline object. */
  readonly source: string;
}

/**
 * `value` is the context value: a path to a `.json` file or to a `.ts`/`.mts`/`.js`/`.mjs` module
 * whose default export is the configuration (resolved against `baseDir`), or the configuration
 * object itself.
 * @throws ConfigError naming the exact setting (or `config` when the file itself is the problem)
 */
export async function loadDeploymentConfig(value: unknown, baseDir: string = process.cwd()): Promise<LoadedConfig> {
  if (value === undefined || value === null || value === '') {
    throw new ConfigError(
      CONFIG_CONTEXT_KEY,
      'no deployment configuration: pass -c config=path/to/config.json (see lib/config/example.config.json)',
    );
  }
  if (typeof value === 'object') return { config: parseDeploymentConfig(value), source: 'context' };
  if (typeof value !== 'string') throw new ConfigError(CONFIG_CONTEXT_KEY, 'must be a file path or a configuration object');

  const file = isAbsolute(value) ? value : resolve(baseDir, value);
  return { config: parseDeploymentConfig(await readConfigFile(file)), source: file };
}

async function readConfigFile(file: string): Promise<unknown> {
  const extension = extname(file);
  if (extension === '.json') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError(CONFIG_CONTEXT_KEY, `cannot read ${file}: ${describeError(error)}`, { cause: error });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(CONFIG_CONTEXT_KEY, `${file} is not valid JSON: ${describeError(error)}`, { cause: error });
    }
  }
  if (['.ts', '.mts', '.js', '.mjs'].includes(extension)) {
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (error) {
      throw new ConfigError(CONFIG_CONTEXT_KEY, `cannot load ${file}: ${describeError(error)}`, { cause: error });
    }
    if (module.default === undefined) throw new ConfigError(CONFIG_CONTEXT_KEY, `${file} has no default export`);
    return module.default;
  }
  throw new ConfigError(CONFIG_CONTEXT_KEY, `${file}: expected a .json, .ts, .mts, .js or .mjs file`);
}
