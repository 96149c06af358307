import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONFIG_CONTEXT_KEY, loadDeploymentConfig } from './config/load-config.js';
import { MeshCertWatchStack } from './mesh-cert-watch-stack.js';

/**
 * Builds the app from its context: loads the configuration, adds the stack and the cdk-nag
 * AwsSolutions checks (any unacknowledged finding fails the synth).
 * @throws ConfigError when the configuration is missing or invalid
 */
export async function buildApp(app: App, baseDir: string = process.cwd()): Promise<MeshCertWatchStack> {
  const { config } = await loadDeploymentConfig(app.node.tryGetContext(CONFIG_CONTEXT_KEY), baseDir);
  const stack = new MeshCertWatchStack(app, config.name, { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
