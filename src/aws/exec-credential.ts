/**
 * Kubernetes `ExecCredential` objects, as `aws eks get-token` prints them.
 *
 * Why: the CLI can act as a kubeconfig `exec` credential plugin (and tests compare our token
 * path with the AWS CLI's), so the object must match the CLI's output exactly: key order
 * `kind, apiVersion, spec, status{expirationTimestamp, token}`, timestamp in whole seconds
 * (`%Y-%m-%dT%H:%M:%SZ`), 4-space indented JSON.
 */

export const EXEC_CREDENTIAL_API_VERSION = 'client.authentication.k8s.io/v1beta1';

export interface ExecCredential {
  readonly kind: 'ExecCredential';
  readonly apiVersion: typeof EXEC_CREDENTIAL_API_VERSION;
  readonly spec: Record<string, never>;
  readonly status: { readonly expirationTimestamp: string; readonly token: string };
}

/** RFC 3339 in whole seconds, UTC, `Z` suffix (what the CLI's strftime produces). */
export function formatExpirationTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toExecCredential(token: string, expiresAt: Date): ExecCredential {
  return {
    kind: 'ExecCredential',
    apiVersion: EXEC_CREDENTIAL_API_VERSION,
    spec: {},
    status: { expirationTimestamp: formatExpirationTimestamp(expiresAt), token },
  };
}

/** The JSON text the AWS CLI prints for it (its json formatter: indent 4, then a newline). */
export function formatExecCredential(credential: ExecCredential): string {
  return `${JSON.stringify(credential, null, 4)}\n`;
}
