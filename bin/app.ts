/**
 * CDK entry point (`cdk.json`: `npx tsx bin/app.ts`). Offline: no lookups, no credentials.
 *   npx cdk synth -c config=path/to/config.json
 *   npx cdk deploy -c config=path/to/config.json
 */
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../src/core/model/errors.js';
import { buildApp } from '../lib/app.js';
import { CONFIG_CONTEXT_KEY } from '../lib/config/load-config.js';

const app = new App({ autoSynth: false });
try {
  await buildApp(app);
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A configuration mistake is the user's to fix: say which setting, without a stack trace.
  const source = app.node.tryGetContext(CONFIG_CONTEXT_KEY) as unknown;
  const where = typeof source === 'string' ? ` (${source})` : '';
  console.error(`mesh-cert-watch: invalid deployment configuration${where}\n  ${error.message.replaceAll('\n', '\n  ')}`);
  process.exitCode = 2;
}
