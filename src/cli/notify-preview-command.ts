/**
 * `mesh-cert-watch notify-preview FILE|- --channel slack|pagerduty`: what the notifier would send
 * to one destination of that channel for a file of events, offline (the same inputs as
 * `slack-preview`). Slack: the webhook payload. PagerDuty: the Events API v2 events, one per
 * workload that opens or closes an incident, with the routing key left out (it is the
 * destination's secret). The destination's filters apply (`--minimum-severity`, `policy: ignore`,
 * routine restart skips); a resolve is shown when the file's pods leave the incident states, as
 * if no other pod held the incident open (the notifier counts them across batches).
 */
import { UsageError } from '../core/model/errors.js';
import { buildDigest } from '../core/notification/digest.js';
import { renderPagerDutyEvents } from '../pagerduty/pagerduty-events.js';
import { CHANNEL_NAMES } from '../ports/notification.js';
import { renderSlackDigest } from '../slack/slack-message.js';
import { parseCommandArgs } from './input.js';
import { readPreviewEvents } from './preview-events.js';
import type { PreviewIo } from './slack-preview-command.js';

export const NOTIFY_PREVIEW_HELP = `Usage: mesh-cert-watch notify-preview FILE|- --channel slack|pagerduty [options]

Prints, offline, the payloads the notifier would send to a destination of CHANNEL for the events in
FILE (a JSON array of EventBridge events or of details with their own "detail-type", like
slack-preview): for slack the webhook payload { "text", "blocks" }; for pagerduty a JSON array of
Events API v2 events (trigger when a workload's pod is expired, or expiring with
--trigger-on-expiring; resolve when its pods left those states), routing_key left out.

Options:
  --channel CHANNEL        slack or pagerduty (required)
  --minimum-severity STATE the destination's minSeverity [default healthy: all]
  --trigger-on-expiring    pagerduty: open incidents at expiring too, like triggerOnExpiring
  --dashboard-url URL      link the dashboard (Slack footer, PagerDuty client_url)
`;

const OPTIONS = {
  channel: { type: 'string' },
  'minimum-severity': { type: 'string' },
  'trigger-on-expiring': { type: 'boolean' },
  'dashboard-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function notifyPreviewCommand(args: readonly string[], io: PreviewIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, true);
  if (values.help) {
    io.stdout(NOTIFY_PREVIEW_HELP);
    return 0;
  }
  const channel = values.channel;
  if (channel === undefined) throw new UsageError('--channel', `required: one of ${CHANNEL_NAMES.join(', ')}`);
  if (!(CHANNEL_NAMES as readonly string[]).includes(channel)) throw new UsageError('--channel', `unknown channel "${channel}" (one of ${CHANNEL_NAMES.join(', ')})`);
  if (positionals.length !== 1) throw new UsageError('FILE', 'notify-preview takes exactly one FILE (or - for standard input)');
  if (values['trigger-on-expiring'] && channel !== 'pagerduty') throw new UsageError('--trigger-on-expiring', 'only PagerDuty opens incidents');
  const dashboardUrl = values['dashboard-url'];
  if (dashboardUrl !== undefined && !URL.canParse(dashboardUrl)) throw new UsageError('--dashboard-url', `not a URL: "${dashboardUrl}"`);

  const items = await readPreviewEvents({
    file: positionals[0]!,
    minimumSeverity: values['minimum-severity'],
    readStdin: io.readStdin,
    onSilenced: (index, item, reason) => io.stderr(`event ${index} (${item.kind}) is not sent: ${reason}\n`),
  });

  const digest = buildDigest(items);
  const context = dashboardUrl !== undefined ? { dashboardUrl } : {};
  const payloads =
    digest === null
      ? []
      : channel === 'slack'
        ? [renderSlackDigest(digest, context)]
        : renderPagerDutyEvents(digest, context, values['trigger-on-expiring'] ? ['expired', 'expiring'] : ['expired']);
  if (payloads.length === 0) {
    io.stderr(`nothing to send: no event in the file would make a ${channel} ${channel === 'slack' ? 'message' : 'event'}\n`);
    io.stdout('[]\n');
    return 0;
  }
  io.stdout(`${JSON.stringify(channel === 'slack' ? payloads[0] : payloads, null, 2)}\n`);
  return 0;
}
