/**
 * The one scrubber for text that comes from the cluster (names, annotation values, exec stdout and
 * stderr, API error messages) on its way to any output: the report and tables, events, logs and
 * Slack. Two jobs:
 *
 *  - key material never leaves: PEM blocks (also a BEGIN without its END, e.g. a cut stderr
 *    line) and base64 runs that decode to a private key (DER PKCS#8, PKCS#1 or SEC1) are replaced
 *    by `[redacted key material]`;
 *  - one printable line: C0 and C1 control characters (terminal escapes, newlines) become spaces.
 *
 * Slack additionally escapes `&`, `<` and `>` (slack-message.ts, `escapeMrkdwn`) so a value such as
 * `<!channel>` or `<https://evil.example|Click here>` is shown, never acted on.
 */
import { createPrivateKey } from 'node:crypto';

export const REDACTED_KEY = '[redacted key material]';

/** `-----BEGIN X-----` … `-----END X-----`, or to the end of the text when the END is missing. */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g;
/** A stray armour line (`-----END PRIVATE KEY-----` whose BEGIN was cut off). */
const PEM_ARMOUR = /-----(?:BEGIN|END) [A-Z0-9 ]+-----/g;
/** Base64 of at least 40 characters, or PEM-style lines of 64 wrapped with real or escaped (`\n`) newlines. */
const BASE64_RUN = /(?:[A-Za-z0-9+/]{64}(?:\r?\n|\\n))+[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9+/]{40,}={0,2}/g;

const KEY_ENCODINGS = [
  { format: 'der', type: 'pkcs8' },
  { format: 'der', type: 'pkcs1' },
  { format: 'der', type: 'sec1' },
] as const;

function decodesToPrivateKey(run: string): boolean {
  const der = Buffer.from(run.replace(/\\n|\s/g, ''), 'base64');
  // Every private key encoding is a DER SEQUENCE.
  if (der.length < 32 || der[0] !== 0x30) return false;
  for (const encoding of KEY_ENCODINGS) {
    try {
      createPrivateKey({ key: der, ...encoding });
      return true;
    } catch {
      // not this encoding
    }
  }
  return false;
}

/** Replaces key material (PEM blocks, base64 runs that parse as private keys). */
export function scrubKeyMaterial(text: string): string {
  if (text.length < 64 && !text.includes('-----')) return text;
  return text
    .replace(PEM_BLOCK, REDACTED_KEY)
    .replace(PEM_ARMOUR, REDACTED_KEY)
    .replace(BASE64_RUN, (run) => (decodesToPrivateKey(run) ? REDACTED_KEY : run));
}

/**
 * For output the cluster controls entirely (exec stderr): also hides every long base64-like run,
 * since a fragment of a key (one PEM body line) does not parse as a key on its own.
 */
export function scrubOpaque(text: string): string {
  return scrubKeyMaterial(text).replace(/[A-Za-z0-9+/=]{32,}/g, '…');
}

/** One printable line: control characters (C0, DEL, C1) become spaces; runs of them collapse. */
export function singleLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove them
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

/** Key material scrubbed, then one printable line: what every output of cluster text gets. */
export function cleanText(text: string): string {
  return singleLine(scrubKeyMaterial(text));
}
