/** `mesh-cert-watch inspect FILE|-`: classifies one captured Envoy config_dump. */
import { classifySecrets } from '../core/judgement/classify.js';
import { parseSecretsDumpStream } from '../core/judgement/config-dump-stream.js';
import { UsageError } from '../core/model/errors.js';
import { renderVerdictTable } from '../core/render/render.js';
import { inputChunks, parseCommandArgs } from './input.js';
import { EXIT, type CliIo } from './io.js';
import { COMMON_OPTIONS, THRESHOLD_HELP, commonSettings } from './settings.js';

export const INSPECT_HELP = `Usage: mesh-cert-watch inspect FILE|- [options]

Classifies one captured config_dump (full, ?mask= or ?resource= form, any size: the input is
streamed and only its secrets section is kept), e.g.
  kubectl exec POD -c istio-proxy -- pilot-agent request GET config_dump?resource=dynamic_active_secrets > dump.json
  mesh-cert-watch inspect dump.json

Options:
${THRESHOLD_HELP}
  -o, --output FORMAT      table (default) or json
`;

export async function inspectCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, COMMON_OPTIONS, true);
  if (values.help) {
    io.stdout(INSPECT_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('FILE', 'inspect takes exactly one FILE (or - for standard input)');
  const common = commonSettings(values, ['table', 'json']);
  const file = positionals[0]!;
  // Streamed: only the secrets section of a full dump (tens of MiB in a large mesh) is kept.
  const secrets = await parseSecretsDumpStream(inputChunks(file, io));
  const verdict = classifySecrets(secrets, { now: common.now ?? new Date(), thresholds: common.thresholds });
  io.stdout(common.output === 'json' ? `${JSON.stringify(verdict, null, 2)}\n` : renderVerdictTable(verdict));
  return EXIT.ok;
}
