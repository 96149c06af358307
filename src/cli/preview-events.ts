/**
 * The input of `slack-preview` and `notify-preview`: a JSON array of events (as EventBridge
 * delivers them) parsed with the contract, minus those the destination's minimum severity silences.
 */
import { MeshCertWatchError, UsageError, describeError } from '../core/model/errors.js';
import { STATES, type State } from '../core/model/types.js';
import { parseNotificationEvent, silenceReason, type NotificationItem } from '../core/notification/notifications.js';
import { readInputFile } from './input.js';

export interface PreviewEventsOptions {
  readonly file: string;
  /** `--minimum-severity`, unchecked. @default 'healthy' */
  readonly minimumSeverity: string | undefined;
  readonly readStdin: () => Promise<string>;
  /** Told why an event is left out. */
  readonly onSilenced: (index: number, item: NotificationItem, reason: string) => void;
}

export async function readPreviewEvents(options: PreviewEventsOptions): Promise<NotificationItem[]> {
  const minimumSeverity = options.minimumSeverity ?? 'healthy';
  if (!(STATES as readonly string[]).includes(minimumSeverity)) {
    throw new UsageError('--minimum-severity', `unknown state "${minimumSeverity}" (one of ${STATES.join(', ')})`);
  }
  const text = await readInputFile(options.file, options.readStdin);
  let events: unknown;
  try {
    events = JSON.parse(text);
  } catch (error) {
    throw new UsageError('FILE', `${options.file} is not JSON: ${describeError(error)}`, { cause: error });
  }
  if (!Array.isArray(events)) throw new UsageError('FILE', `${options.file} must hold a JSON array of events`);

  const items: NotificationItem[] = [];
  events.forEach((event: unknown, index) => {
    let item: NotificationItem;
    try {
      item = parseNotificationEvent(event);
    } catch (error) {
      if (error instanceof MeshCertWatchError) throw new UsageError(`FILE[${index}]`, error.message, { cause: error });
      throw error;
    }
    const silence = silenceReason(item, { minimumSeverity: minimumSeverity as State });
    if (silence === null) items.push(item);
    else options.onSilenced(index, item, silence);
  });
  return items;
}
