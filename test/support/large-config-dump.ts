/**
 * Writes a full Envoy `/config_dump` of a mesh without Sidecar scoping: every sidecar holds a
 * cluster per service port of the mesh, so the dump is tens of MiB of clusters (Istio-shaped,
 * with nested `@type`s, SDS references named `default`/`ROOTCA`, and strings full of JSON
 * punctuation) around a few KiB of secrets, printed last as Envoy does. Generated on the fly for
 * the tests and `npm run bench`, never committed.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { fullSecretsDump, type DumpSpec } from '../../src/sandbox/emulator/envoy-dump.js';

export interface LargeDumpResult {
  readonly bytes: number;
  readonly clusters: number;
}

function cluster(index: number): unknown {
  const namespace = `team-${index % 97}`;
  const host = `svc-${index}.${namespace}.svc.cluster.local`;
  const name = `outbound|${8000 + (index % 7)}||${host}`;
  const sds = (secret: string) => ({
    name: secret,
    sds_config: { api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }] }, resource_api_version: 'V3' },
  });
  return {
    version_info: `2026-12-01T22:00:00Z/${index}`,
    cluster: {
      '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      name,
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' }, service_name: name },
      connect_timeout: '10s',
      circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295 }] },
      metadata: {
        filter_metadata: {
          istio: {
            services: [{ host, name: `svc-${index}`, namespace }],
            // Punctuation inside strings must not move the scanner: braces, brackets, quotes, escapes.
            note: `a "quoted" {brace} [bracket] \\ backslash, "@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump" ${index}`,
          },
        },
      },
      transport_socket_matches: [
        {
          name: 'tlsMode-istio',
          match: { tlsMode: 'istio' },
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
              common_tls_context: {
                tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
                alpn_protocols: ['istio-peer-exchange', 'istio'],
                tls_certificate_sds_secret_configs: [sds('default')],
                combined_validation_context: {
                  default_validation_context: { match_subject_alt_names: [{ exact: `spiffe://example.org/ns/${namespace}/sa/svc-${index}` }] },
                  validation_context_sds_secret_config: sds('ROOTCA'),
                },
              },
              sni: name,
            },
          },
        },
        { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } } },
      ],
    },
    last_updated: '2026-12-01T22:00:00.123Z',
  };
}

/**
 * Writes the dump to `path` (pretty-printed like Envoy's admin output) until it holds at least
 * `minBytes`, with the secrets of `secrets` as the last config.
 */
export async function writeLargeConfigDump(path: string, minBytes: number, secrets: DumpSpec): Promise<LargeDumpResult> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (text: string): Promise<void> => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('{\n "configs": [\n');
  await write(`${indent(JSON.stringify({ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node: { id: 'sidecar~10.0.0.1~app.shop~shop.svc.cluster.local' } } }, null, 1))},\n`);
  await write('  {\n   "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",\n   "version_info": "2026-12-01T22:00:00Z/1",\n   "dynamic_active_clusters": [\n');
  let clusters = 0;
  const secretsText = indent(JSON.stringify(fullSecretsDump(secrets).configs[0], null, 1));
  const tail = 200 + Buffer.byteLength(secretsText);
  while (bytes + tail < minBytes) {
    await write(`${clusters > 0 ? ',\n' : ''}${indent(JSON.stringify(cluster(clusters), null, 1), '    ')}`);
    clusters += 1;
  }
  await write('\n   ]\n  },\n');
  await write(`${secretsText}\n ]\n}\n`);
  out.end();
  await once(out, 'finish');
  return { bytes, clusters };
}

function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}
