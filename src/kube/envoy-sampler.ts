/**
 * Samples one sidecar: asks Envoy (through `pilot-agent request`, which needs no extra tools in
 * the distroless proxy image) for its active secrets, and for its warming secrets when no
 * `default` is active, then parses them. Anything that is not the expected JSON fails the sample.
 */
import { mergeWarming, parseSecretsDump, type ParsedSecrets } from '../core/judgement/envoy-secrets.js';
import { PodGoneError } from '../core/model/errors.js';
import type { PodTarget } from '../core/model/pods.js';
import { ExecRejectedError, execCommand } from './exec.js';
import type { KubeClient } from './kube-client.js';

export const ACTIVE_SECRETS_COMMAND = ['pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_active_secrets'] as const;
export const WARMING_SECRETS_COMMAND = ['pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_warming_secrets'] as const;

export interface SamplerOptions {
  /** Per exec call. */
  readonly timeoutMs: number;
  /** Output cap per exec call. */
  readonly maxOutputBytes: number;
}

export const DEFAULT_SAMPLER_OPTIONS: SamplerOptions = { timeoutMs: 10_000, maxOutputBytes: 4 * 1024 * 1024 };

export async function sampleEnvoySecrets(client: KubeClient, target: PodTarget, options: SamplerOptions = DEFAULT_SAMPLER_OPTIONS): Promise<ParsedSecrets> {
  const active = parseSecretsDump((await run(client, target, ACTIVE_SECRETS_COMMAND, options)).toString('utf8'), {
    resourceKind: 'active',
    maxBytes: options.maxOutputBytes,
  });
  if (active.active.some((secret) => secret.name === 'default')) return active;
  const warming = parseSecretsDump((await run(client, target, WARMING_SECRETS_COMMAND, options)).toString('utf8'), {
    resourceKind: 'warming',
    maxBytes: options.maxOutputBytes,
  });
  return mergeWarming(active, warming);
}

async function run(client: KubeClient, target: PodTarget, command: readonly string[], options: SamplerOptions): Promise<Buffer> {
  try {
    return await execCommand(client, target, command, { timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes });
  } catch (error) {
    if (error instanceof ExecRejectedError && error.statusCode === 404) {
      throw new PodGoneError(`pod ${target.namespace}/${target.name} no longer exists`, { cause: error });
    }
    throw error;
  }
}
