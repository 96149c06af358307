/**
 * How `sweep` writes its report while the pods are judged, in memory that does not grow with the
 * cluster. Each writer gets `begin` (sweep facts known up front), `pod` (each judged pod, in the
 * order they were judged) and `end` (summary and closing facts).
 *
 * - `json`: ONE valid JSON document, streamed. Keys in this order:
 *   `{ cluster, sweepId, startedAt, now, thresholds, pods: [ ...as judged... ], finishedAt,
 *   summary, partial[, remediation] }`. Pods are in judged order (roughly list order), not worst
 *   first: sort with `jq '.pods | sort_by(.state)'` or read `summary`.
 * - `ndjson`: one JSON object per line, each with a `record` field: first
 *   `{record:"sweep", cluster, sweepId, startedAt, now, thresholds}`, then one
 *   `{record:"pod", ...pod}` per judged pod, last `{record:"summary", finishedAt, summary,
 *   partial[, remediation]}`. For `jq -c 'select(.record=="pod")'` and log shippers.
 * - `table`: worst first, like before, but rows are spilled to a temporary file as they come;
 *   only the column widths and counts stay in memory, and the file is read back once per state
 *   present (worst state first) when the sweep ends. Then the `error ns/name: reason` lines and
 *   the summary line.
 * - `table` with `--stream`: rows printed as judged, the header first; column widths start at
 *   the header and grow when a wider cell arrives (like `kubectl get -w`), summary at the end.
 */
import { createReadStream, createWriteStream, mkdtempSync, openSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { renderRotationsLine } from '../core/render/render-history.js';
import { renderAgentsBlock, renderSummaryLine, SWEEP_COLUMNS, sweepErrorLine, sweepTableRow } from '../core/render/render.js';
import { STATES, STATE_SEVERITY, type AgentReport, type PodReport, type RotationsReport, type State, type Summary, type ThresholdsReport } from '../core/model/types.js';

export type SweepOutputFormat = 'table' | 'json' | 'ndjson';

export interface SweepHead {
  readonly cluster: string;
  readonly sweepId: string;
  readonly startedAt: string;
  readonly now: string;
  readonly thresholds: ThresholdsReport;
}

export interface SweepTail {
  readonly finishedAt: string;
  readonly summary: Summary;
  readonly partial: boolean;
  /** With rotation history (`--history`). */
  readonly rotations?: RotationsReport;
  /** The tbot agents found (one per node), known only once every pod is judged. */
  readonly agents?: readonly AgentReport[];
  readonly agentsError?: string;
  /** Why listing stopped early (a list request timed out): the sweep is partial. */
  readonly listError?: string;
}

/** The tbot agents block, the summary line, and the rotations line when the sweep ran with history. */
function summaryLines(tail: SweepTail): string {
  const agents = renderAgentsBlock(tail);
  const rotations = tail.rotations ? `${renderRotationsLine(tail.rotations)}\n` : '';
  const listError = tail.listError !== undefined ? `error: pod list stopped early: ${tail.listError}\n\n` : '';
  return `${listError}${agents !== null ? `${agents}\n\n` : ''}${renderSummaryLine(tail.summary, tail.partial)}\n${rotations}`;
}

export interface SweepWriter {
  begin(head: SweepHead): void;
  pod(pod: PodReport): void;
  /** `extra` (e.g. `remediation`) is added to the closing object; `tableAppendix` follows the table. */
  end(tail: SweepTail, extra?: { readonly json?: Record<string, unknown>; readonly tableAppendix?: string }): Promise<void>;
  /** Removes anything temporary (also after a failed sweep). */
  dispose(): void;
}

type Write = (text: string) => void;

/** One JSON document, written as it goes (see the module comment for the shape). */
export class JsonSweepWriter implements SweepWriter {
  private first = true;
  constructor(private readonly write: Write) {}

  begin(head: SweepHead): void {
    const open = JSON.stringify(head, null, 2);
    // `{ ...head` without its closing brace, then the pods array.
    this.write(`${open.slice(0, open.lastIndexOf('}')).trimEnd()},\n  "pods": [`);
  }

  pod(pod: PodReport): void {
    const text = JSON.stringify(pod, null, 2).replace(/\n/g, '\n    ');
    this.write(`${this.first ? '\n    ' : ',\n    '}${text}`);
    this.first = false;
  }

  async end(tail: SweepTail, extra?: { readonly json?: Record<string, unknown> }): Promise<void> {
    const close = JSON.stringify({ ...tail, ...(extra?.json ?? {}) }, null, 2);
    this.write(`${this.first ? ']' : '\n  ]'},\n${close.slice(close.indexOf('{') + 1).replace(/^\n/, '')}\n`);
  }

  dispose(): void {}
}

/** One object per line: `sweep`, then `pod`s, then `summary`. */
export class NdjsonSweepWriter implements SweepWriter {
  constructor(private readonly write: Write) {}
  begin(head: SweepHead): void {
    this.write(`${JSON.stringify({ record: 'sweep', ...head })}\n`);
  }
  pod(pod: PodReport): void {
    this.write(`${JSON.stringify({ record: 'pod', ...pod })}\n`);
  }
  async end(tail: SweepTail, extra?: { readonly json?: Record<string, unknown> }): Promise<void> {
    this.write(`${JSON.stringify({ record: 'summary', ...tail, ...(extra?.json ?? {}) })}\n`);
  }
  dispose(): void {}
}

const GAP = '   ';

function widen(widths: number[], row: readonly string[]): boolean {
  let grew = false;
  row.forEach((cell, i) => {
    if (cell.length > (widths[i] ?? 0)) {
      widths[i] = cell.length;
      grew = true;
    }
  });
  return grew;
}

function padRow(row: readonly string[], widths: readonly number[]): string {
  return row
    .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
    .join(GAP)
    .trimEnd();
}

/** The worst-first table, with rows spilled to a temporary file until the end. */
export class TableSweepWriter implements SweepWriter {
  private readonly widths: number[] = SWEEP_COLUMNS.map((c) => c.length);
  private readonly perState = new Map<State, number>();
  private errors = 0;
  private dir: string | undefined;
  private rows: WriteStream | undefined;
  private errorLines: WriteStream | undefined;

  constructor(private readonly write: Write) {}

  begin(): void {
    this.dir = mkdtempSync(join(tmpdir(), 'mesh-cert-watch-sweep-'));
    // Opened now, not by the streams later: a sweep that fails at once disposes of the folder
    // before an asynchronous open would run, and that open would then fail with ENOENT.
    this.rows = createWriteStream('', { fd: openSync(join(this.dir, 'rows.ndjson'), 'w') });
    this.errorLines = createWriteStream('', { fd: openSync(join(this.dir, 'errors.txt'), 'w') });
  }

  pod(pod: PodReport): void {
    const row = sweepTableRow(pod);
    widen(this.widths, row);
    this.perState.set(pod.state, (this.perState.get(pod.state) ?? 0) + 1);
    this.rows!.write(`${JSON.stringify([pod.state, ...row])}\n`);
    const error = sweepErrorLine(pod);
    if (error !== null) {
      this.errors++;
      this.errorLines!.write(`${error}\n`);
    }
  }

  async end(tail: SweepTail, extra?: { readonly tableAppendix?: string }): Promise<void> {
    await Promise.all([closeStream(this.rows!), closeStream(this.errorLines!)]);
    const sampled = [...this.perState.values()].reduce((a, b) => a + b, 0);
    if (sampled === 0) {
      this.write('No pods sampled.\n\n');
    } else {
      this.write(`${padRow(SWEEP_COLUMNS, this.widths)}\n`);
      const worstFirst = [...STATES].sort((a, b) => STATE_SEVERITY[b] - STATE_SEVERITY[a]).filter((s) => this.perState.has(s));
      for (const state of worstFirst) {
        for await (const line of lines(join(this.dir!, 'rows.ndjson'))) {
          const [rowState, ...row] = JSON.parse(line) as string[];
          if (rowState === state) this.write(`${padRow(row, this.widths)}\n`);
        }
      }
      this.write('\n');
      if (this.errors > 0) {
        for await (const line of lines(join(this.dir!, 'errors.txt'))) this.write(`${line}\n`);
        this.write('\n');
      }
    }
    this.write(summaryLines(tail));
    if (extra?.tableAppendix) this.write(`\n${extra.tableAppendix}`);
  }

  dispose(): void {
    this.rows?.destroy();
    this.errorLines?.destroy();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Rows as they are judged (`--stream`); widths grow as wider cells arrive. */
export class StreamingTableSweepWriter implements SweepWriter {
  private readonly widths: number[] = SWEEP_COLUMNS.map((c) => c.length);
  private sampled = 0;
  private readonly errorLines: string[] = [];
  private errorsDropped = 0;

  constructor(
    private readonly write: Write,
    /** Unreachable pods' `error` lines kept for the end; the rest are counted. */
    private readonly maxErrorLines = 200,
  ) {}

  begin(): void {}

  pod(pod: PodReport): void {
    const row = sweepTableRow(pod);
    if (this.sampled === 0) {
      widen(this.widths, row);
      this.write(`${padRow(SWEEP_COLUMNS, this.widths)}\n`);
    } else {
      widen(this.widths, row);
    }
    this.sampled++;
    this.write(`${padRow(row, this.widths)}\n`);
    const error = sweepErrorLine(pod);
    if (error !== null) {
      if (this.errorLines.length < this.maxErrorLines) this.errorLines.push(error);
      else this.errorsDropped++;
    }
  }

  async end(tail: SweepTail, extra?: { readonly tableAppendix?: string }): Promise<void> {
    this.write(this.sampled === 0 ? 'No pods sampled.\n\n' : '\n');
    if (this.errorLines.length > 0) {
      const more = this.errorsDropped > 0 ? `\n… and ${this.errorsDropped} more unreachable pods (see --output ndjson for all)` : '';
      this.write(`${this.errorLines.join('\n')}${more}\n\n`);
    }
    this.write(summaryLines(tail));
    if (extra?.tableAppendix) this.write(`\n${extra.tableAppendix}`);
  }

  dispose(): void {}
}

async function closeStream(stream: WriteStream): Promise<void> {
  stream.end();
  if (!stream.closed) await once(stream, 'close');
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
}

export function sweepWriter(format: SweepOutputFormat, write: Write, options: { stream: boolean }): SweepWriter {
  if (format === 'json') return new JsonSweepWriter(write);
  if (format === 'ndjson') return new NdjsonSweepWriter(write);
  return options.stream ? new StreamingTableSweepWriter(write) : new TableSweepWriter(write);
}
