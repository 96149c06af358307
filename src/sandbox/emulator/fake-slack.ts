/**
 * A local HTTP server standing in for Slack's incoming webhooks: it records every post and
 * answers as scripted (200 "ok" by default; 429 with Retry-After, 5xx, 404...). The notifier tests
 * and the demo point the real webhook client at it. Loopback only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';
import { readRequestBody } from './request-body.js';

/** One scripted answer of the fake Slack. */
export interface SlackAnswer {
  readonly status: number;
  readonly body?: string;
  readonly retryAfter?: string;
}

export interface FakeSlack {
  /** Base URL; webhooks are `${url}/services/T000/B000/<secret>`. */
  readonly url: string;
  readonly requests: { readonly path: string; readonly body: unknown; readonly headers: IncomingMessage['headers'] }[];
  /** Answers for the next requests, in order; then 200 "ok". */
  script(...answers: SlackAnswer[]): void;
  close(): Promise<void>;
}

/** node:http on 127.0.0.1 recording every webhook post. */
export async function startFakeSlack(): Promise<FakeSlack> {
  const requests: FakeSlack['requests'][number][] = [];
  let answers: SlackAnswer[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void readRequestBody(request).then(({ body }) => {
      requests.push({ path: request.url ?? '', body, headers: request.headers });
      const answer = answers.shift() ?? { status: 200, body: 'ok' };
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...(answer.retryAfter !== undefined ? { 'retry-after': answer.retryAfter } : {}) });
      response.end(answer.body ?? (answer.status === 200 ? 'ok' : 'error'));
    });
  });
  const loopback = await listenOnLoopback(server);
  return {
    url: loopback.baseUrl,
    requests,
    script: (...next) => {
      answers = [...next];
    },
    close: loopback.close,
  };
}
