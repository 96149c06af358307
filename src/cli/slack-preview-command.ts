/**
 * `mesh-cert-watch slack-preview FILE|-`: the Slack message the notifier would post for a file of
 * events, offline. Prints the webhook payload (`{ "text", "blocks" }`), the same message as plain
 * text, and a Block Kit Builder link that opens it (the blocks, URL-encoded, in the fragment: the
 * link carries the message, nothing is uploaded until you open it). The notifier's filters apply
 * (`--minimum-severity`, `policy: ignore`, routine restart skips); per-namespace routing does
 * not (one message for everything shown).
 */
import { UsageError } from '../core/model/errors.js';
import { renderPlainText, renderSlackMessage } from '../slack/slack-message.js';
import { parseCommandArgs } from './input.js';
import { readPreviewEvents } from './preview-events.js';

export interface PreviewIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
}

export const SLACK_PREVIEW_HELP = `Usage: mesh-cert-watch slack-preview FILE|- [options]

Renders the Slack message the notifier would post for the events in FILE, offline: the webhook
payload as JSON, the same message as plain text, and a link that opens it in Slack's
Block Kit Builder (https://app.slack.com/block-kit-builder/#<the blocks, URL-encoded>). FILE holds a
JSON array of EventBridge events ("detail-type", "source", "detail") or of details that carry
their own "detail-type" field: Pod Certificate State Changed, Workload Restart, Sweep Completed.

Options:
  --minimum-severity STATE post state changes only when the state or the previous state is at
                           least this severe, like the notifier's setting [default healthy: all]
  --dashboard-url URL      link the dashboard in the footer
  -o, --output FORMAT      both (default: JSON, text and the link), json, text or link
`;

const OPTIONS = {
  'minimum-severity': { type: 'string' },
  'dashboard-url': { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function slackPreviewCommand(args: readonly string[], io: PreviewIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, true);
  if (values.help) {
    io.stdout(SLACK_PREVIEW_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('FILE', 'slack-preview takes exactly one FILE (or - for standard input)');
  const output = values.output ?? 'both';
  if (output !== 'both' && output !== 'json' && output !== 'text' && output !== 'link') {
    throw new UsageError('--output', `must be "both", "json", "text" or "link", got "${output}"`);
  }
  const dashboardUrl = values['dashboard-url'];
  if (dashboardUrl !== undefined && !URL.canParse(dashboardUrl)) throw new UsageError('--dashboard-url', `not a URL: "${dashboardUrl}"`);

  const items = await readPreviewEvents({
    file: positionals[0]!,
    minimumSeverity: values['minimum-severity'],
    readStdin: io.readStdin,
    onSilenced: (index, item, reason) => io.stderr(`event ${index} (${item.kind}) is not posted: ${reason}\n`),
  });

  const message = renderSlackMessage(items, dashboardUrl !== undefined ? { dashboardUrl } : {});
  if (message === null) {
    io.stderr('nothing to post: no event in the file would make a message\n');
    return 0;
  }
  if (output === 'link') {
    io.stdout(`${blockKitBuilderUrl(message)}\n`);
    return 0;
  }
  if (output !== 'text') io.stdout(`${JSON.stringify(message, null, 2)}\n`);
  if (output === 'both') io.stdout('\n');
  if (output !== 'json') io.stdout(renderPlainText(message));
  if (output === 'both') io.stdout(`\nOpen in Block Kit Builder (needs a Slack login; the message is in the link):\n${blockKitBuilderUrl(message)}\n`);
  return 0;
}

/** Slack's Block Kit Builder with `blocks` preloaded: the payload, URL-encoded, after `#`. */
export function blockKitBuilderUrl(message: { readonly blocks: readonly unknown[] }): string {
  return `https://app.slack.com/block-kit-builder/#${encodeURIComponent(JSON.stringify({ blocks: message.blocks }))}`;
}
