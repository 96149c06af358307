/** The body of a request to a local fake (Slack, PagerDuty): its text, and its JSON when it parses. */
import type { IncomingMessage } from 'node:http';

export interface RequestBody {
  readonly text: string;
  /** The parsed JSON, or the raw text when it is not JSON (the fakes record what was sent). */
  readonly body: unknown;
}

export async function readRequestBody(request: IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { text, body: JSON.parse(text) as unknown };
  } catch {
    return { text, body: text };
  }
}
