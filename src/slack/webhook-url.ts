/**
 * The Slack webhook secret's value: an incoming-webhook URL, as plain text or as JSON
 * `{ "url": "..." }`. It must be an `https://hooks.slack.com/...` URL; tests pass another
 * `acceptUrl` for their local server. Neither the value nor anything derived from it but a
 * digest appears in errors or logs.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../core/model/errors.js';

/** The production rule: HTTPS to Slack's incoming-webhook host, with a path. */
export function isSlackWebhookUrl(url: URL): boolean {
  return url.protocol === 'https:' && url.hostname === 'hooks.slack.com' && url.port === '' && url.pathname.length > 1 && url.username === '' && url.password === '';
}

/** Short stable id of a credential (sha-256 prefix): loggable, and the rate-limit key. */
export function webhookId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

const EXPECTED = 'must hold a Slack incoming-webhook URL (https://hooks.slack.com/...), as plain text or as JSON {"url": "..."}';

/** The URL in a secret value; throws a ConfigError that does not quote the value. */
export function parseWebhookSecret(secretId: string, value: string, acceptUrl: (url: URL) => boolean = isSlackWebhookUrl): string {
  let text = value.trim();
  if (text === '') throw new ConfigError(`webhook secret ${secretId}`, `${EXPECTED}; it has no value`);
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError(`webhook secret ${secretId}`, `${EXPECTED}; it looks like JSON but does not parse`);
    }
    const url = (parsed as { url?: unknown } | null)?.url;
    if (typeof url !== 'string') throw new ConfigError(`webhook secret ${secretId}`, `${EXPECTED}; the JSON has no "url" string`);
    text = url.trim();
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`webhook secret ${secretId}`, EXPECTED);
  }
  if (!acceptUrl(url)) throw new ConfigError(`webhook secret ${secretId}`, EXPECTED);
  return url.toString();
}
