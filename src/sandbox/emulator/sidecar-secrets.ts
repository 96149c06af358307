/**
 * Scripts what a sidecar's Envoy holds: a leaf issued at a chosen time, pushed by tbot or by
 * the Istio agent at a chosen time, and the answer `pilot-agent request GET ...` prints for it.
 * Used by the integration tests, the benchmark and the demo.
 */
import { ACTIVE_SECRETS_COMMAND, WARMING_SECRETS_COMMAND } from '../../kube/envoy-sampler.js';
import { agentVersionInfo, resourceSecretsDump, tbotVersionInfo, type SecretSpec } from './envoy-dump.js';
import { createIntermediateCa, createRootCa, issueLeaf, type CertificateAuthority, type IssuedLeaf } from './pki.js';

export const ACTIVE_SECRETS_PATH = ACTIVE_SECRETS_COMMAND[3];
export const WARMING_SECRETS_PATH = WARMING_SECRETS_COMMAND[3];

export interface MeshPki {
  readonly trustDomain: string;
  readonly root: CertificateAuthority;
  /** The issuer of workload SVIDs (tbot's or istiod's intermediate). */
  readonly issuer: CertificateAuthority;
}

export async function createMeshPki(trustDomain = 'example.org'): Promise<MeshPki> {
  const root = await createRootCa(trustDomain);
  const issuer = await createIntermediateCa(root, `${trustDomain} workload issuer`);
  return { trustDomain, root, issuer };
}

export interface SidecarCertificate {
  /** Who serves SDS: decides the `version_info` format and the ROOTCA shape. */
  readonly servedBy: 'tbot' | 'istio-agent';
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Leaf notBefore. */
  readonly issuedAt: Date;
  readonly lifetimeSeconds: number;
  /** When Envoy last accepted `default`; default: the issue time. */
  readonly pushedAt?: Date;
  /** Overrides the SPIFFE ID (to script an identity mismatch). */
  readonly spiffeId?: string;
  /** Present the ROOTCA of another PKI (to script a bundle mismatch). */
  readonly bundleFrom?: MeshPki;
  /** Serial to reuse, e.g. to show the same leaf re-sent. */
  readonly serialNumber?: string;
  /**
   * Serve this already issued leaf again, byte for byte (tbot re-sending its cached SVID); the
   * issue time, lifetime, SPIFFE ID and serial above are then those of that leaf.
   */
  readonly leaf?: IssuedLeaf;
}

export interface SidecarSecrets {
  /** `pilot-agent request GET <path>` → stdout, for `KubeApiEmulator.setProxyResponses`. */
  readonly responses: Readonly<Record<string, string>>;
  readonly serialNumber: string;
  /** The leaf served (pass it back as `leaf` to serve it again); null when Envoy holds none. */
  readonly leaf: IssuedLeaf | null;
}

let pushCounter = 0;

export async function sidecarSecrets(pki: MeshPki, cert: SidecarCertificate): Promise<SidecarSecrets> {
  const notAfter = new Date(cert.issuedAt.getTime() + cert.lifetimeSeconds * 1000);
  const leaf =
    cert.leaf ??
    (await issueLeaf(pki.issuer, {
      spiffeId: cert.spiffeId ?? `spiffe://${pki.trustDomain}/ns/${cert.namespace}/sa/${cert.serviceAccount}`,
      notBefore: cert.issuedAt,
      notAfter,
      ...(cert.serialNumber ? { serialNumber: cert.serialNumber } : {}),
    }));
  const pushedAt = cert.pushedAt ?? cert.issuedAt;
  const bundlePki = cert.bundleFrom ?? pki;
  const tbot = cert.servedBy === 'tbot';
  const versionInfo = tbot ? tbotVersionInfo(pushedAt) : agentVersionInfo(pushedAt, ++pushCounter);
  const secrets: SecretSpec[] = [
    { name: 'default', versionInfo, lastUpdated: pushedAt, chainPem: leaf.certificatePem + pki.issuer.certificatePem },
    {
      name: 'ROOTCA',
      versionInfo,
      lastUpdated: pushedAt,
      rootCa: tbot
        ? { shape: 'spiffe', trustDomains: [{ name: bundlePki.trustDomain, bundlePem: bundlePki.root.certificatePem }] }
        : { shape: 'trusted_ca', bundlePem: bundlePki.root.certificatePem },
    },
  ];
  return { responses: { [ACTIVE_SECRETS_PATH]: `${JSON.stringify(resourceSecretsDump(secrets), null, 2)}\n` }, serialNumber: leaf.serialNumber, leaf };
}

/** Envoy still waiting for `default` (SDS never answered): active holds only ROOTCA, warming holds `default`. */
export function warmingOnlySecrets(pki: MeshPki): SidecarSecrets {
  const active = resourceSecretsDump([
    { name: 'ROOTCA', lastUpdated: new Date(), rootCa: { shape: 'trusted_ca', bundlePem: pki.root.certificatePem } },
  ]);
  const warming = resourceSecretsDump([{ name: 'default', versionInfo: 'uninitialized', lastUpdated: new Date() }]);
  return {
    responses: { [ACTIVE_SECRETS_PATH]: `${JSON.stringify(active)}\n`, [WARMING_SECRETS_PATH]: `${JSON.stringify(warming)}\n` },
    serialNumber: '',
    leaf: null,
  };
}
