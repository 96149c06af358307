/**
 * `mesh-cert-watch token --cluster NAME [--region R]`: prints an EKS bearer token as the
 * `client.authentication.k8s.io/v1beta1` ExecCredential `aws eks get-token` prints (same JSON,
 * same token format), signed locally from the default AWS credential chain. Users can put it in
 * a kubeconfig `exec` section, and compare what the sampler Lambda presents with the AWS CLI.
 *
 * The token is a credential: it goes to standard output only, never into an error message.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { createEksToken, stsHostForRegion } from '../aws/eks-token.js';
import { formatExecCredential, toExecCredential } from '../aws/exec-credential.js';
import { ConfigError, UsageError, describeError } from '../core/model/errors.js';
import { parseCommandArgs } from './input.js';

export const TOKEN_HELP = `Usage: mesh-cert-watch token --cluster NAME [--region R]

Prints an EKS bearer token for cluster NAME as a client.authentication.k8s.io/v1beta1
ExecCredential (with expirationTimestamp), exactly like "aws eks get-token". The token is
signed locally with the default AWS credential chain (environment, profile, SSO, web
identity, container or instance role); it is valid for 15 minutes (reported as 14).

kubeconfig user entry:
  exec:
    apiVersion: client.authentication.k8s.io/v1beta1
    command: mesh-cert-watch
    args: [token, --cluster, NAME, --region, REGION]

Options:
  --cluster NAME           the EKS cluster name (bound into the signature)
  --region R               the cluster's region (default: $AWS_REGION, then $AWS_DEFAULT_REGION)
`;

const TOKEN_OPTIONS = {
  cluster: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface TokenCommandIo {
  readonly stdout: (text: string) => void;
}

export interface TokenCommandDependencies {
  /** Default: `fromNodeProviderChain()` (the AWS SDK's default chain). */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Where `AWS_REGION` / `AWS_DEFAULT_REGION` are read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Signing instant; default now. */
  readonly now?: () => Date;
}

/** Runs the command; returns the exit code (0). Throws UsageError / ConfigError (exit 2). */
export async function tokenCommand(args: readonly string[], io: TokenCommandIo, deps: TokenCommandDependencies = {}): Promise<number> {
  const { values } = parseCommandArgs(args, TOKEN_OPTIONS, false);
  if (values.help) {
    io.stdout(TOKEN_HELP);
    return 0;
  }
  const cluster = values.cluster?.trim();
  if (!cluster) throw new UsageError('--cluster', 'the EKS cluster name is required');
  const env = deps.env ?? process.env;
  const region = values.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined);
  if (!region) throw new UsageError('--region', 'no region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION');
  try {
    stsHostForRegion(region);
  } catch (error) {
    throw new UsageError('--region', `not an AWS region name: ${JSON.stringify(region)}`, { cause: error });
  }

  let credentials: AwsCredentialIdentity;
  try {
    // Loaded only here: the credential chain is the heaviest part of the kubeconfig exec plugin.
    const provider = deps.credentials ?? (await import('@aws-sdk/credential-providers')).fromNodeProviderChain();
    credentials = await provider();
  } catch (error) {
    throw new ConfigError('AWS credentials', `the default credential chain found none: ${describeError(error)}`, { cause: error });
  }
  const { token, expiresAt } = await createEksToken({ clusterName: cluster, region, credentials, signingDate: (deps.now ?? (() => new Date()))() });
  io.stdout(formatExecCredential(toExecCredential(token, expiresAt)));
  return 0;
}
