/** Shared builders for the sampler tests (default and moto tiers). Not a test file. */
import type { PutEventsCommand, PutEventsCommandOutput, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { CLUSTER_ID_HEADER, createEksToken, decodeEksToken } from '../../src/aws/eks-token.js';
import type { EventBridgeSender } from '../../src/aws/event-publisher.js';
import { parseRuntimeConfig, samplerRuntimeConfig, type SamplerRuntimeConfig, type SamplerRuntimeConfigInput } from '../../src/config/runtime.js';
import { DETAIL_TYPES, type DetailType } from '../../src/core/events/events.js';
import { DETAIL_SCHEMAS } from '../../src/core/events/schemas.js';
import type { KubeIdentity, KubeApiEmulator, KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { sidecarSecrets, type MeshPki, type SidecarCertificate } from '../../src/sandbox/emulator/sidecar-secrets.js';

export const minutesBefore = (at: Date, m: number): Date => new Date(at.getTime() - m * 60_000);

/** `MESH_CERT_WATCH_CONFIG` as the stack writes it, parsed like the handler does. */
export function samplerConfig(input: Partial<SamplerRuntimeConfigInput> & Pick<SamplerRuntimeConfigInput, 'clusters'>): SamplerRuntimeConfig {
  const full: SamplerRuntimeConfigInput = { eventBusName: 'mesh-cert-watch', ledgerTableName: 'ledger', sweepDeadlineMarginSeconds: 20, ...input };
  return parseRuntimeConfig(samplerRuntimeConfig, { MESH_CERT_WATCH_CONFIG: JSON.stringify(full) });
}

export function clusterInput(name: string, extra: Partial<SamplerRuntimeConfigInput['clusters'][number]> = {}): SamplerRuntimeConfigInput['clusters'][number] {
  return {
    name,
    region: 'eu-west-1',
    namespaces: { include: [], exclude: [] },
    thresholds: { staleAfter: '60%', expiringWithin: '20%' },
    concurrency: 4,
    sampleTimeoutSeconds: 5,
    ...extra,
  };
}

/** Scripts what the pod's istio-proxy answers; returns the leaf serial. */
export async function scriptPod(emulator: KubeApiEmulator, pki: MeshPki, pod: KubeObject, cert: Omit<SidecarCertificate, 'namespace' | 'serviceAccount'>): Promise<string> {
  const namespace = pod.metadata.namespace!;
  const secrets = await sidecarSecrets(pki, { namespace, serviceAccount: (pod.spec as { serviceAccountName: string }).serviceAccountName, ...cert });
  emulator.setProxyResponses(namespace, pod.metadata.name, secrets.responses);
  return secrets.serialNumber;
}

/** A Lambda context whose remaining time is fixed. */
export function lambdaContext(remainingMs: number): Context {
  return {
    functionName: 'mesh-cert-watch-sampler',
    awsRequestId: 'req-1',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:mesh-cert-watch-sampler',
    memoryLimitInMB: '512',
    functionVersion: '$LATEST',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}

/** A port that refuses connections: a cluster that cannot be reached. */
export { unusedPort as closedPort } from '../support/net.js';

/** `20260101T120000Z` -> Date. */
function amzDate(text: string | undefined): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!m) throw new Error(`bad X-Amz-Date ${text}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

/**
 * What the EKS authenticator does with our token, short of calling STS: decode it, require the
 * cluster header to be signed, and verify the signature by signing the same request for the
 * expected cluster with the known credentials (a token made for another cluster, region or key
 * does not match). Every token presented is recorded, to check that none reaches the logs.
 */
export function eksTokenValidator(expected: {
  readonly cluster: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}) {
  const presented = new Set<string>();
  const rejected: string[] = [];
  const validateToken = async (token: string): Promise<KubeIdentity | false> => {
    presented.add(token);
    try {
      const decoded = decodeEksToken(token);
      if (!decoded.signedHeaders.includes(CLUSTER_ID_HEADER)) throw new Error('cluster header not signed');
      const again = await createEksToken({
        clusterName: expected.cluster,
        region: expected.region,
        credentials: expected.credentials,
        signingDate: amzDate(decoded.query['X-Amz-Date']),
      });
      if (again.token !== token) throw new Error('signature does not match the expected cluster/credentials');
      return { username: 'arn:aws:sts::111122223333:assumed-role/sampler/session', groups: ['mesh-cert-watch:sampler', 'system:authenticated'] };
    } catch (error) {
      rejected.push(String(error));
      return false;
    }
  };
  return { validateToken, presented, rejected };
}

export interface RecordedEvent {
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

/**
 * A recording implementation of our EventBridgeSender port (not a mock of the SDK): keeps every
 * PutEvents call and answers per entry: accepted, or refused when its detail-type is in
 * `refused` (as EventBridge does with `FailedEntryCount` and a per-entry `ErrorCode`).
 */
export function recordingEventBridge() {
  const calls: { readonly entries: readonly PutEventsRequestEntry[]; readonly accepted: readonly boolean[] }[] = [];
  let refused: readonly string[] = [];
  const sender: EventBridgeSender = {
    send: async (command: PutEventsCommand): Promise<PutEventsCommandOutput> => {
      const entries = command.input.Entries ?? [];
      const accepted = entries.map((e) => !refused.includes(e.DetailType ?? ''));
      calls.push({ entries, accepted });
      const results = accepted.map((ok, i) => (ok ? { EventId: `event-${calls.length}-${i}` } : { ErrorCode: 'InternalFailure', ErrorMessage: 'refused by the test' }));
      return { FailedEntryCount: accepted.filter((ok) => !ok).length, Entries: results, $metadata: {} };
    },
  };
  return {
    sender,
    /** Entries per PutEvents call. */
    calls: (): (readonly PutEventsRequestEntry[])[] => calls.map((c) => c.entries),
    /** Accepted entries, in publish order. */
    accepted: (): RecordedEvent[] =>
      calls.flatMap((c) =>
        c.entries.flatMap((e, i) => (c.accepted[i] ? [{ detailType: e.DetailType!, detail: JSON.parse(e.Detail!) as Record<string, unknown> }] : [])),
      ),
    /** From now on, refuse entries of these detail-types ([] = accept everything). */
    refuse: (detailTypes: readonly string[]): void => {
      refused = detailTypes;
    },
    clear: (): void => {
      calls.length = 0;
    },
  };
}

const SCHEMA_FILES: Record<DetailType, string> = {
  'Pod Certificate Unhealthy': 'pod-certificate-unhealthy',
  'Pod Certificate State Changed': 'pod-certificate-state-changed',
  'Sweep Completed': 'sweep-completed',
  'Workload Restart': 'workload-restart',
  'Agent Restart': 'agent-restart',
};

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validators = Object.fromEntries(
  DETAIL_TYPES.map((t) => [t, ajv.compile(JSON.parse(readFileSync(new URL(`../../src/events/schemas/${SCHEMA_FILES[t]}.schema.json`, import.meta.url), 'utf8')) as object)]),
) as Record<DetailType, ReturnType<typeof ajv.compile>>;

/**
 * Schema errors of one emitted detail ([] when valid): against the committed (generated) JSON
 * Schema, and the zod schema the consumers parse it with.
 */
export function schemaErrors(detailType: string, detail: unknown): string[] {
  const validate = validators[detailType as DetailType];
  if (!validate) return [`no schema for detail-type ${detailType}`];
  const json = validate(detail) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  const parsed = DETAIL_SCHEMAS[detailType as DetailType].safeParse(detail);
  return [...json, ...(parsed.success ? [] : parsed.error.issues.map((issue) => `zod ${issue.path.join('.')}: ${issue.message}`))];
}
