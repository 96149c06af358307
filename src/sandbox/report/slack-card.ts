/**
 * A Slack message as HTML, close to how Slack draws it: the Block Kit JSON the notifier posts
 * (header, section, context, divider; mrkdwn with *bold*, _italic_, ~strike~, `code`, ```pre```,
 * <url|links> and > quotes) inside a message card with the app's name and the time. Pure string
 * functions; everything is escaped before markup is added.
 */

/** The Block Kit subset the renderer knows; unknown blocks are shown as their type. */
export interface CardBlock {
  readonly type: string;
  readonly text?: { readonly type: string; readonly text: string };
  readonly elements?: ReadonlyArray<{ readonly type: string; readonly text?: string }>;
  readonly fields?: ReadonlyArray<{ readonly type: string; readonly text: string }>;
}

export interface CardMessage {
  readonly text: string;
  readonly blocks?: readonly CardBlock[];
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Inline mrkdwn of one line (already escaped except Slack's own `<...>` link syntax). */
function inline(text: string): string {
  // Slack links and mentions: <https://x|label>, <https://x>; everything else is escaped text.
  const parts: string[] = [];
  let rest = text;
  const link = /<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>/;
  for (let match = link.exec(rest); match; match = link.exec(rest)) {
    parts.push(styled(escapeHtml(rest.slice(0, match.index))));
    const url = match[1]!;
    parts.push(`<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${styled(escapeHtml(match[2] ?? url))}</a>`);
    rest = rest.slice(match.index + match[0].length);
  }
  parts.push(styled(escapeHtml(rest)));
  return parts.join('');
}

/** *bold*, _italic_, ~strike~ and `code` on escaped text. */
function styled(escaped: string): string {
  const codeSpans: string[] = [];
  const withoutCode = escaped.replace(/`([^`]+)`/g, (_all, code: string) => {
    codeSpans.push(`<code>${code}</code>`);
    return `\uE000${codeSpans.length - 1}\uE001`;
  });
  return withoutCode
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1<b>$2</b>')
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, '$1<i>$2</i>')
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, '$1<s>$2</s>')
    .replace(/\uE000(\d+)\uE001/g, (_all, index: string) => codeSpans[Number(index)]!);
}

/** A mrkdwn text object as HTML: code blocks, quotes and lines. */
export function mrkdwnToHtml(text: string): string {
  const out: string[] = [];
  const chunks = text.split('```');
  chunks.forEach((chunk, index) => {
    if (index % 2 === 1) {
      out.push(`<pre class="slack-pre">${escapeHtml(chunk.replace(/^\n/, ''))}</pre>`);
      return;
    }
    const lines = chunk.split('\n');
    lines.forEach((line, i) => {
      if (line.startsWith('&gt; ') || line.startsWith('> ')) out.push(`<blockquote>${inline(line.replace(/^(&gt;|>) /, ''))}</blockquote>`);
      else out.push(`${inline(line)}${i < lines.length - 1 ? '<br>' : ''}`);
    });
  });
  return out.join('');
}

function block(b: CardBlock): string {
  switch (b.type) {
    case 'header':
      return `<div class="slack-header">${escapeHtml(b.text?.text ?? '')}</div>`;
    case 'section': {
      const text = b.text ? `<div class="slack-section">${b.text.type === 'mrkdwn' ? mrkdwnToHtml(b.text.text) : escapeHtml(b.text.text)}</div>` : '';
      const fields = b.fields?.length ? `<div class="slack-fields">${b.fields.map((f) => `<div>${mrkdwnToHtml(f.text)}</div>`).join('')}</div>` : '';
      return text + fields;
    }
    case 'context':
      return `<div class="slack-context">${(b.elements ?? []).map((e) => `<span>${e.type === 'mrkdwn' ? mrkdwnToHtml(e.text ?? '') : escapeHtml(e.text ?? '')}</span>`).join(' ')}</div>`;
    case 'divider':
      return '<hr class="slack-divider">';
    default:
      return `<div class="slack-context">[${escapeHtml(b.type)} block]</div>`;
  }
}

export interface CardOptions {
  /** The app's name as Slack shows it. */
  readonly app: string;
  /** Shown next to the app name, e.g. "09:25". */
  readonly time: string;
  /** The channel line above the card. */
  readonly channel?: string;
}

/** One message card: avatar, app name with the APP badge, time, then the blocks (or the text). */
export function renderSlackCard(message: CardMessage, options: CardOptions): string {
  const body = message.blocks && message.blocks.length > 0 ? message.blocks.map(block).join('\n') : `<div class="slack-section">${mrkdwnToHtml(message.text)}</div>`;
  return `<article class="slack-card" data-testid="slack-card">
  ${options.channel ? `<div class="slack-channel">${escapeHtml(options.channel)}</div>` : ''}
  <div class="slack-message">
    <div class="slack-avatar" aria-hidden="true">mc</div>
    <div class="slack-content">
      <div class="slack-meta"><span class="slack-app">${escapeHtml(options.app)}</span><span class="slack-badge">APP</span><time>${escapeHtml(options.time)}</time></div>
      ${body}
    </div>
  </div>
</article>`;
}

/** The CSS of the cards (Slack's fonts, colours and spacing, approximately). */
export const SLACK_CARD_CSS = `
.slack-card { background: #fff; border: 1px solid #e1e1e1; border-radius: 8px; margin: 0 0 16px; max-width: 760px; font-family: "Slack-Lato", Lato, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1d1c1d; font-size: 15px; line-height: 1.46668; overflow-wrap: anywhere; }
.slack-channel { padding: 8px 16px; border-bottom: 1px solid #e1e1e1; font-weight: 900; font-size: 15px; }
.slack-message { display: flex; gap: 8px; padding: 8px 16px 12px; }
.slack-avatar { flex: 0 0 36px; height: 36px; border-radius: 6px; background: #2eb67d; color: #fff; font-weight: 900; display: flex; align-items: center; justify-content: center; font-size: 14px; }
.slack-content { flex: 1; min-width: 0; }
.slack-meta { display: flex; align-items: baseline; gap: 6px; }
.slack-app { font-weight: 900; }
.slack-badge { background: rgba(29,28,29,.13); color: rgba(29,28,29,.7); font-size: 10px; font-weight: 700; padding: 0 3px; border-radius: 2px; }
.slack-meta time { color: #616061; font-size: 12px; }
.slack-header { font-size: 18px; font-weight: 900; line-height: 1.33; margin: 4px 0; }
.slack-section { margin: 4px 0; white-space: normal; }
.slack-section code, .slack-context code { font-family: Monaco, Menlo, Consolas, "Courier New", monospace; font-size: 12px; color: #e01e5a; background: rgba(29,28,29,.04); border: 1px solid rgba(29,28,29,.13); border-radius: 3px; padding: 2px 3px 1px; }
.slack-pre { font-family: Monaco, Menlo, Consolas, "Courier New", monospace; font-size: 12px; background: rgba(29,28,29,.04); border: 1px solid rgba(29,28,29,.13); border-radius: 4px; padding: 8px; white-space: pre-wrap; margin: 4px 0; }
.slack-section a { color: #1264a3; text-decoration: none; }
.slack-context { color: #616061; font-size: 12px; margin: 4px 0; }
.slack-context a { color: #1264a3; }
.slack-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; }
.slack-divider { border: 0; border-top: 1px solid #e1e1e1; margin: 8px 0; }
blockquote { border-left: 4px solid #ddd; margin: 4px 0; padding-left: 12px; }
`;
