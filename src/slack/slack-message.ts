/**
 * One Slack message (Block Kit plus a plain `text` fallback) rendered from the channel-neutral
 * digest (src/core/notification/digest.ts, which holds the grouping, diagnosis and advice).
 *
 * Layout, worst first: a header naming the clusters; one summary line per cluster; then one
 * section block per digest group (kind of news, cluster, namespace): restarts that need a person,
 * new problems, worse, the tbot agents to fix (once per node), sweeps that did not cover the
 * cluster, routine restart outcomes, better, resolved. Inside a block, one bullet per workload.
 * A context line links the dashboard.
 *
 * Slack limits are enforced here, not hoped for: at most 50 blocks (surplus blocks collapse into
 * "… and N more"), section text at most 3000 characters (surplus workloads become "… and N
 * more workloads"), header text at most 150. Counts are of the pods in the events: the events do
 * not carry a workload's replica count, so the message says "3 pods stale", never "3/5".
 * Pure: no I/O.
 */
import { buildDigest, oneLine, plural, shortenText, type Digest, type DigestEntry, type DigestGroup, type DigestSectionId, type DigestTone } from '../core/notification/digest.js';
import type { NotificationItem } from '../core/notification/notifications.js';
import { scrubKeyMaterial } from '../core/model/scrub.js';

export { restartCommand } from '../core/notification/digest.js';

export interface MrkdwnText {
  readonly type: 'mrkdwn';
  readonly text: string;
}

export interface PlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji: true;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: PlainText }
  | { readonly type: 'section'; readonly text: MrkdwnText }
  | { readonly type: 'context'; readonly elements: readonly MrkdwnText[] };

/** The webhook payload: `text` is what notifications and screen readers show. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  /** Our own cap for the notification fallback (Slack truncates far later). */
  fallbackText: 1000,
} as const;

export interface RenderOptions {
  /** CloudWatch dashboard linked from the footer. */
  readonly dashboardUrl?: string;
}

const SECTION_EMOJI: Readonly<Record<DigestSectionId, string>> = {
  attention: '🛑',
  opened: '🚨',
  worsened: '📈',
  nodes: '🛠️',
  sweeps: '⚠️',
  restarts: '🔁',
  improved: '📉',
  resolved: '✅',
};

const SECTION_TITLE: Readonly<Record<DigestSectionId, string>> = {
  attention: 'Restarts that need a person',
  opened: 'New problems',
  worsened: 'Worse',
  nodes: 'tbot agents to fix',
  sweeps: 'Sweeps that did not cover the cluster',
  restarts: 'Restarts',
  improved: 'Better, not yet healthy',
  resolved: 'Resolved',
};

const TONE_EMOJI: Readonly<Record<DigestTone, string>> = { alert: '🚨', warning: '⚠️', restarts: '🔁', resolved: '✅' };

/**
 * Slack mrkdwn control characters in text that comes from the cluster, which is also scrubbed of
 * key material: a name, annotation or stderr line such as `<!channel>` is shown, never acted on.
 */
export function escapeMrkdwn(text: string): string {
  return scrubKeyMaterial(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const indent = (text: string): string => `      ${text}`;

/** An entry as its mrkdwn lines: `• *subject*: summary`, then facts and advice, indented. */
function entryLines(entry: DigestEntry): string[] {
  const head = entry.subject === null ? `• ${escapeMrkdwn(entry.summary)}` : `• *${escapeMrkdwn(entry.subject)}*: ${escapeMrkdwn(entry.summary)}`;
  return [head, ...entry.lines.map((line) => indent(line.kind === 'advice' ? `→ ${escapeMrkdwn(line.text)}` : escapeMrkdwn(line.text)))];
}

function groupTitle(group: DigestGroup): string {
  const title = `${SECTION_EMOJI[group.section]} ${SECTION_TITLE[group.section]}`;
  const where = group.namespace === null ? group.cluster : `${group.cluster} / ${group.namespace}`;
  return `*${title} · ${escapeMrkdwn(oneLine(where, 300))}*`;
}

/** Title plus as many rows as fit in one section block; the rest become "… and N more workloads". */
function groupText(group: DigestGroup): string {
  const title = groupTitle(group);
  const unit = group.section === 'sweeps' ? 'clusters' : group.section === 'nodes' ? 'nodes' : 'workloads';
  const reserve = `\n… and ${group.entries.length} more ${unit}`.length;
  let text = title;
  for (let i = 0; i < group.entries.length; i++) {
    const rowText = `\n${entryLines(group.entries[i]!).join('\n')}`;
    const last = i === group.entries.length - 1;
    if (text.length + rowText.length + (last ? 0 : reserve) > SLACK_LIMITS.sectionText) {
      return `${text}\n… and ${group.entries.length - i} more ${unit}`;
    }
    text += rowText;
  }
  return text;
}

function summaryLine(summary: Digest['summaries'][number]): string {
  return `*${escapeMrkdwn(summary.cluster)}*: ${summary.parts.join(', ')}`;
}

function footer(digest: Digest, options: RenderOptions): string {
  const parts: string[] = [];
  if (options.dashboardUrl) parts.push(`<${options.dashboardUrl.replace(/[|>]/g, encodeURIComponent)}|📊 CloudWatch dashboard>`);
  const sweeps = digest.sweepIds;
  parts.push(sweeps.length === 1 ? `sweep ${escapeMrkdwn(oneLine(sweeps[0]!, 100))}` : `${sweeps.length} sweeps`);
  parts.push(`${new Date(Date.parse(digest.latestAt)).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  return parts.join(' · ');
}

const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** The message for a digest. */
export function renderSlackDigest(digest: Digest, options: RenderOptions = {}): SlackMessage {
  const { groups } = digest;
  const emoji = TONE_EMOJI[digest.tone];
  const header = shortenText(`${emoji} mesh-cert-watch · ${oneLine(digest.clusters.join(', '), 300)}`, SLACK_LIMITS.headerText);
  const summaries = digest.summaries.map(summaryLine);
  const summaryText =
    summaries.join('\n').length <= SLACK_LIMITS.sectionText ? summaries.join('\n') : shortenText(summaries.join('\n'), SLACK_LIMITS.sectionText - 40) + `\n… and more clusters`;

  // header + summary + footer, the rest for groups (one kept for "… and N more" if needed).
  const room = SLACK_LIMITS.blocks - 3;
  const shown = groups.length <= room ? groups : groups.slice(0, room - 1);
  const hidden = groups.slice(shown.length);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    section(summaryText),
    ...shown.map((g) => section(groupText(g))),
  ];
  if (hidden.length > 0) {
    const rows = hidden.reduce((n, g) => n + g.entries.length, 0);
    blocks.push(section(`… and ${plural(hidden.length, 'more namespace')} with ${plural(rows, 'workload')} not shown: see the dashboard.`));
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: footer(digest, options) }] });

  // The notification: what happened where, and the worst item in one line.
  const worst = groups[0];
  const worstLine = worst ? ` · ${worst.namespace === null ? '' : `${escapeMrkdwn(worst.namespace)}: `}${entryLines(worst.entries[0]!)[0]!.replace(/^• /, '')}` : '';
  // Slack reads the fallback as mrkdwn too (notifications, clients without blocks): it keeps the
  // escaping of the blocks; only our own bold markers go.
  const text = shortenText(mrkdwnToFallback(`${emoji} mesh-cert-watch: ${summaries.join('; ')}${worstLine}`), SLACK_LIMITS.fallbackText);
  return { text, blocks };
}

/**
 * The message for `items` (all of them: filter first), or null when there is nothing to say.
 */
export function renderSlackMessage(items: readonly NotificationItem[], options: RenderOptions = {}): SlackMessage | null {
  const digest = buildDigest(items);
  return digest === null ? null : renderSlackDigest(digest, options);
}

/** The fallback `text`: bold markers removed, entities kept (`&lt;!channel&gt;` stays inert). */
export function mrkdwnToFallback(text: string): string {
  return text.replace(/\*([^*\n]+)\*/g, '$1');
}

/**
 * mrkdwn → plain text for a terminal (`slack-preview`), never sent to Slack: links as
 * "label (url)", bold markers and entities removed.
 */
export function mrkdwnToPlain(text: string): string {
  return text
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/\*([^*\n]+)\*/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The whole message as plain text (what `slack-preview` prints after the Block Kit JSON). */
export function renderPlainText(message: SlackMessage): string {
  const parts = message.blocks.map((block) => {
    switch (block.type) {
      case 'header':
        return block.text.text;
      case 'section':
        return mrkdwnToPlain(block.text.text);
      case 'context':
        return block.elements.map((e) => mrkdwnToPlain(e.text)).join(' ');
    }
  });
  return `${parts.join('\n\n')}\n`;
}
