/**
 * A local HTTP server standing in for the PagerDuty Events API v2 (`POST /v2/enqueue`). It checks
 * each event like the real endpoint does and answers as PagerDuty documents:
 *  - 202 `{ status: "success", message: "Event processed", dedup_key }` for a valid event;
 *  - 400 `{ status: "invalid event", message: "Event object is invalid", errors: [...] }` when a
 *    required field is missing or wrong: `routing_key` (32 characters), `event_action`
 *    (trigger | acknowledge | resolve), `dedup_key` (≤ 255, required to acknowledge or resolve),
 *    and for a trigger `payload.summary` (≤ 1024), `payload.source`, `payload.severity`
 *    (critical | error | warning | info), `payload.timestamp` (ISO 8601 when given); a body over
 *    512 KB; not JSON;
 *  - scripted answers first (429, 5xx, 400...), in order.
 * It keeps the alerts' state per routing key and dedup key (triggered, resolved), so tests can
 * assert what an on-call engineer would see. Loopback only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';
import { readRequestBody } from './request-body.js';

export interface PagerDutyAnswer {
  readonly status: number;
  readonly body?: string;
  readonly retryAfter?: string;
}

export interface PagerDutyRecord {
  readonly body: unknown;
  readonly status: number;
  readonly errors: readonly string[];
}

export interface FakePagerDuty {
  /** The enqueue endpoint: `${base}/v2/enqueue`. */
  readonly url: string;
  /** Every request, with the answer it got. */
  readonly requests: PagerDutyRecord[];
  /** Accepted events only. */
  readonly accepted: () => Record<string, unknown>[];
  /** Alert state by `routing_key` + `dedup_key`: what PagerDuty would show. */
  readonly alerts: Map<string, { status: 'triggered' | 'acknowledged' | 'resolved'; triggers: number; summary: string }>;
  script(...answers: PagerDutyAnswer[]): void;
  close(): Promise<void>;
}

const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const MAX_BYTES = 512 * 1024;

/** What PagerDuty would say is wrong with an event body (empty: valid). */
export function pagerDutyErrors(text: string): string[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_BYTES) return ['Event object is too large (maximum 512 KB)'];
  let event: Record<string, unknown>;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return ['Event object must be a JSON object'];
    event = parsed as Record<string, unknown>;
  } catch {
    return ['Event object is not valid JSON'];
  }
  const errors: string[] = [];
  if (typeof event.routing_key !== 'string') errors.push("'routing_key' is missing or blank");
  else if (event.routing_key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!ACTIONS.includes(event.event_action as string)) errors.push("'event_action' is invalid (must be one of trigger, acknowledge, resolve)");
  const dedup = event.dedup_key;
  if (dedup !== undefined && (typeof dedup !== 'string' || dedup.length > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
  if (event.event_action !== 'trigger' && typeof dedup !== 'string') errors.push("'dedup_key' is required to acknowledge or resolve");
  if (event.event_action === 'trigger') {
    const payload = event.payload as Record<string, unknown> | undefined;
    if (typeof payload !== 'object' || payload === null) errors.push("'payload' is missing");
    else {
      if (typeof payload.summary !== 'string' || payload.summary === '') errors.push("'payload.summary' is missing or blank");
      else if (payload.summary.length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
      if (typeof payload.source !== 'string' || payload.source === '') errors.push("'payload.source' is missing or blank");
      if (!SEVERITIES.includes(payload.severity as string)) errors.push("'payload.severity' is invalid (must be one of critical, error, warning, info)");
      if (payload.timestamp !== undefined && (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))) errors.push("'payload.timestamp' is not an ISO 8601 timestamp");
      if (payload.custom_details !== undefined && (typeof payload.custom_details !== 'object' || payload.custom_details === null)) errors.push("'payload.custom_details' must be an object");
    }
  }
  return errors;
}

export async function startFakePagerDuty(): Promise<FakePagerDuty> {
  const requests: PagerDutyRecord[] = [];
  const alerts: FakePagerDuty['alerts'] = new Map();
  let answers: PagerDutyAnswer[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void readRequestBody(request).then(({ text, body }) => {
      const reply = (status: number, payload: string, headers: Record<string, string> = {}, errors: string[] = []) => {
        requests.push({ body, status, errors });
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(payload);
      };
      const scripted = answers.shift();
      if (scripted) {
        reply(scripted.status, scripted.body ?? JSON.stringify({ status: 'error', message: `scripted ${scripted.status}` }), scripted.retryAfter !== undefined ? { 'retry-after': scripted.retryAfter } : {});
        return;
      }
      if (request.method !== 'POST' || request.url !== '/v2/enqueue') {
        reply(404, JSON.stringify({ status: 'not found', message: 'Not found' }));
        return;
      }
      const errors = pagerDutyErrors(text);
      if (errors.length > 0) {
        reply(400, JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors }), {}, errors);
        return;
      }
      const event = body as { routing_key: string; event_action: string; dedup_key?: string; payload?: { summary: string } };
      const dedup = event.dedup_key ?? `generated-${requests.length}`;
      const key = `${event.routing_key}#${dedup}`;
      const alert = alerts.get(key);
      if (event.event_action === 'trigger') {
        // A trigger on an open alert adds to it; after a resolve it opens a new one.
        const open = alert !== undefined && alert.status !== 'resolved';
        alerts.set(key, { status: open ? alert.status : 'triggered', triggers: (open ? alert.triggers : 0) + 1, summary: event.payload!.summary });
      } else if (alert) {
        // Resolving or acknowledging an unknown or resolved alert is ignored.
        if (alert.status !== 'resolved') alerts.set(key, { ...alert, status: event.event_action === 'resolve' ? 'resolved' : 'acknowledged' });
      }
      reply(202, JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedup }));
    });
  });
  const loopback = await listenOnLoopback(server);
  return {
    url: `${loopback.baseUrl}/v2/enqueue`,
    requests,
    accepted: () => requests.filter((r) => r.status === 202).map((r) => r.body as Record<string, unknown>),
    alerts,
    script: (...next) => {
      answers = [...next];
    },
    close: loopback.close,
  };
}
