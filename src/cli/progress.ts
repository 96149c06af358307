/**
 * The live progress line of `sweep` on a terminal (stderr):
 *   sweep 1,234/~5,000 pods · 276/s · 4.5s · ETA 13s · 2 errors
 * Redrawn in place (carriage return + erase line) at most every `intervalMs`; erased before
 * anything else is printed, so streamed rows and warnings never mix with it, and at the end.
 * Shown only when stderr is a terminal, not with --quiet, not under CI (`CI` set), not for
 * `TERM=dumb`; `NO_COLOR` keeps it free of colour (it then uses no SGR codes at all).
 */
import { formatDuration } from '../core/render/render.js';

export interface ProgressCounts {
  /** Pods judged so far. */
  readonly judged: number;
  /** Pods judged `unreachable` so far. */
  readonly errors: number;
  /** Best estimate of the pods that will be judged; null while unknown. */
  readonly expected: number | null;
  /** True when `expected` is final (the list is complete). */
  readonly expectedFinal: boolean;
}

export interface ProgressTerminal {
  readonly write: (text: string) => void;
  readonly columns: () => number;
  readonly color: boolean;
}

const ERASE_LINE = '\r\u001b[2K';
const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

/** Whether to show live progress: a real terminal, no --quiet, and not CI or a dumb terminal. */
export function progressWanted(options: { terminal: boolean; quiet: boolean; env: Readonly<Record<string, string | undefined>> }): boolean {
  const { env } = options;
  if (!options.terminal || options.quiet) return false;
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0') return false;
  return env.TERM !== 'dumb';
}

/** `NO_COLOR` (https://no-color.org): present and not empty disables colour. */
export function colorWanted(env: Readonly<Record<string, string | undefined>>): boolean {
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** The line's text for the given counts and elapsed time (pure; tests read it). */
export function progressText(counts: ProgressCounts, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? counts.judged / seconds : 0;
  const total = counts.expected === null ? '?' : `${counts.expectedFinal ? '' : '~'}${formatCount(counts.expected)}`;
  const parts = [`sweep ${formatCount(counts.judged)}/${total} pods`, `${rate.toFixed(0)}/s`, formatElapsed(seconds)];
  if (counts.expected !== null && rate > 0 && counts.judged > 0) {
    const remaining = Math.max(0, counts.expected - counts.judged) / rate;
    parts.push(`ETA ${formatElapsed(remaining)}`);
  }
  parts.push(`${formatCount(counts.errors)} error${counts.errors === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

function formatElapsed(seconds: number): string {
  return seconds < 10 ? `${seconds.toFixed(1)}s` : formatDuration(seconds);
}

export class ProgressLine {
  private shown = false;
  private lastDraw = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly started: number;

  constructor(
    private readonly terminal: ProgressTerminal,
    private readonly counts: () => ProgressCounts,
    private readonly options: { intervalMs?: number; now?: () => number } = {},
  ) {
    this.started = this.now();
  }

  private now(): number {
    return (this.options.now ?? performance.now.bind(performance))();
  }

  start(): void {
    this.draw();
    this.timer = setInterval(() => this.draw(), this.options.intervalMs ?? 100);
    this.timer.unref?.();
  }

  /** Redraws unless drawn less than half an interval ago (called after each streamed row). */
  refresh(): void {
    if (this.now() - this.lastDraw >= (this.options.intervalMs ?? 100) / 2) this.draw();
  }

  /** Erases the line (before other output); the next refresh or tick draws it again. */
  clear(): void {
    if (!this.shown) return;
    this.terminal.write(ERASE_LINE);
    this.shown = false;
  }

  /** Erases the line for good. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  draw(): void {
    const text = progressText(this.counts(), this.now() - this.started);
    const width = Math.max(10, this.terminal.columns() - 1);
    const fitted = text.length > width ? text.slice(0, width) : text;
    this.terminal.write(`${ERASE_LINE}${this.terminal.color ? `${DIM}${fitted}${RESET}` : fitted}`);
    this.shown = true;
    this.lastDraw = this.now();
  }
}
