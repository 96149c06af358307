/** `mesh-cert-watch slack-preview FILE|-`: the notifier's message for a file of events, offline. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, main, type CliIo } from '../../src/cli/main.js';
import { parseNotificationEvent } from '../../src/core/notification/notifications.js';
import { renderPlainText, renderSlackMessage } from '../../src/slack/slack-message.js';
import { changeDetail, changeEvent, restartDetail, restartEvent, sweepEvent } from './kit.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'slack-preview-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function capture(stdin = ''): { io: CliIo; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t), readStdin: async () => stdin }, out: () => out.join(''), err: () => err.join('') };
}

async function file(name: string, content: unknown): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const EVENTS = [
  changeEvent({ name: 'carts-1', state: 'stale', findings: ['sds-push-without-rotation'] }),
  restartEvent(),
  restartEvent({ outcome: 'skipped', reason: 'cooldown' }),
  sweepEvent(),
];

describe('slack-preview', () => {
  it('prints the webhook payload as JSON, a blank line, then the plain text; says what it left out', async () => {
    const { io, out, err } = capture();
    const code = await main(['slack-preview', await file('events.json', EVENTS), '--dashboard-url', 'https://example.com/dash'], io);
    expect(code).toBe(EXIT.ok);
    const expected = renderSlackMessage([EVENTS[0], EVENTS[1], EVENTS[3]].map(parseNotificationEvent), { dashboardUrl: 'https://example.com/dash' })!;
    const link = `https://app.slack.com/block-kit-builder/#${encodeURIComponent(JSON.stringify({ blocks: expected.blocks }))}`;
    expect(out()).toBe(
      `${JSON.stringify(expected, null, 2)}\n\n${renderPlainText(expected)}\nOpen in Block Kit Builder (needs a Slack login; the message is in the link):\n${link}\n`,
    );
    expect(expected.blocks).toHaveLength(6);
    expect(err()).toBe('event 2 (restart) is not posted: routine skip (cooldown)\n');
  });

  it('prints only the Block Kit Builder link with -o link: the blocks, URL-encoded, after #', async () => {
    const { io, out } = capture();
    expect(await main(['slack-preview', await file('link.json', EVENTS), '-o', 'link'], io)).toBe(EXIT.ok);
    const url = new URL(out().trim());
    expect(`${url.origin}${url.pathname}`).toBe('https://app.slack.com/block-kit-builder/');
    const expected = renderSlackMessage([EVENTS[0], EVENTS[1], EVENTS[3]].map(parseNotificationEvent), {})!;
    expect(JSON.parse(decodeURIComponent(url.hash.slice(1)))).toEqual({ blocks: JSON.parse(JSON.stringify(expected.blocks)) });
    expect(out().trim()).not.toMatch(/[\s"{}]/);
  });

  it('reads details that carry their own detail-type, from standard input, and prints only the text with -o text', async () => {
    const details = [{ 'detail-type': 'Pod Certificate State Changed', ...changeDetail({ state: 'expired' }) }, { 'detail-type': 'Workload Restart', ...restartDetail() }];
    const { io, out } = capture(JSON.stringify(details));
    expect(await main(['slack-preview', '-', '-o', 'text'], io)).toBe(EXIT.ok);
    expect(out()).toMatch(/^🚨 mesh-cert-watch · prod-eu-1\n\nprod-eu-1: 1 pod with new problems, 1 workload restarted\n/);
    expect(out()).not.toContain('"blocks"');
  });

  it('applies --minimum-severity like the notifier', async () => {
    const { io, out, err } = capture();
    expect(await main(['slack-preview', await file('stale.json', [changeEvent({ state: 'stale' })]), '--minimum-severity', 'expiring'], io)).toBe(EXIT.ok);
    expect(out()).toBe('');
    expect(err()).toBe('event 0 (change) is not posted: below the severity filter (expiring)\nnothing to post: no event in the file would make a message\n');
  });

  it.each([
    ['a file that is not JSON', ['not json'], /FILE: .* is not JSON/],
    ['a JSON object instead of an array', [{}], /must hold a JSON array of events/],
    ['an event the notifier does not read', [[{ 'detail-type': 'Pod Certificate Unhealthy', detail: {} }]], /FILE\[0\]: detail-type: the notifier does not handle/],
    ['an unknown state', [[], '--minimum-severity', 'bad'], /--minimum-severity: unknown state "bad"/],
  ])('exits 2 with a usage error for %s', async (name, [content, ...flags], message) => {
    const { io, err } = capture();
    const path = await file(`${name.replace(/\W+/g, '-')}.json`, content);
    expect(await main(['slack-preview', path, ...(flags as string[])], io)).toBe(EXIT.usage);
    expect(err()).toMatch(message as RegExp);
  });

  it('is listed in the help, with its own help page', async () => {
    const general = capture();
    await main(['help'], general.io);
    expect(general.out()).toContain('mesh-cert-watch slack-preview FILE|-');
    const own = capture();
    expect(await main(['help', 'slack-preview'], own.io)).toBe(EXIT.ok);
    expect(own.out()).toContain('Block Kit Builder');
  });
});

describe('notify-preview', () => {
  const INCIDENT = [
    changeEvent({ name: 'carts-1', state: 'expired', findings: ['sds-push-without-rotation'] }),
    changeEvent({ namespace: 'payments', name: 'checkout-1', workload: { kind: 'Deployment', name: 'checkout' }, state: 'healthy', change: 'resolved', previousState: 'expired' }),
    changeEvent({ name: 'orders-1', workload: { kind: 'Deployment', name: 'orders' }, state: 'expiring' }),
    restartEvent(),
  ];

  it('prints the PagerDuty events: a trigger per expired workload, a resolve per healed one, no routing key', async () => {
    const { io, out } = capture();
    expect(await main(['notify-preview', await file('pd.json', INCIDENT), '--channel', 'pagerduty', '--dashboard-url', 'https://example.com/dash'], io)).toBe(EXIT.ok);
    const events = JSON.parse(out()) as { event_action: string; dedup_key: string; client_url?: string; routing_key?: string }[];
    expect(events.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', 'mesh-cert-watch:prod-eu-1/shop/Deployment/carts'],
      ['resolve', 'mesh-cert-watch:prod-eu-1/payments/Deployment/checkout'],
    ]);
    expect(events[0]!.client_url).toBe('https://example.com/dash');
    expect(out()).not.toContain('routing_key');
    // Expiring pages only when the destination says so.
    const expiring = capture();
    expect(await main(['notify-preview', await file('pd2.json', INCIDENT), '--channel', 'pagerduty', '--trigger-on-expiring'], expiring.io)).toBe(EXIT.ok);
    expect((JSON.parse(expiring.out()) as { dedup_key: string }[]).map((e) => e.dedup_key)).toContain('mesh-cert-watch:prod-eu-1/shop/Deployment/orders');
  });

  it('prints the Slack payload slack-preview prints with -o json', async () => {
    const path = await file('slack.json', EVENTS);
    const notify = capture();
    const slack = capture();
    expect(await main(['notify-preview', path, '--channel', 'slack'], notify.io)).toBe(EXIT.ok);
    expect(await main(['slack-preview', path, '-o', 'json'], slack.io)).toBe(EXIT.ok);
    expect(notify.out()).toBe(slack.out());
  });

  it.each([
    [['--channel', 'email'], '--channel'],
    [[], '--channel'],
    [['--channel', 'slack', '--trigger-on-expiring'], '--trigger-on-expiring'],
    [['--channel', 'pagerduty', '--minimum-severity', 'bad'], '--minimum-severity'],
  ])('refuses %j naming %s', async (flags, setting) => {
    const { io, err } = capture();
    expect(await main(['notify-preview', await file('bad.json', EVENTS), ...flags], io)).toBe(EXIT.usage);
    expect(err()).toContain(setting);
  });
});
