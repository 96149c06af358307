/**
 * The report's charts: Vega-Lite specifications compiled and rendered to SVG in Node by Vega's
 * own headless renderer (`view.toSVG()`), so the HTML file carries finished pictures and needs no
 * script or CDN when it is opened. Vega is loaded only when a report is written.
 */
import { STATES, type State } from '../../core/model/types.js';
import { STATE_COLORS } from '../../core/render/state-colors.js';

/**
 * A rendered chart and how many data points it drew (the browser test checks both). Drawn twice:
 * for wide screens and for phones, where a scaled-down wide chart would have unreadable text;
 * the page's CSS shows one.
 */
export interface Chart {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly svg: string;
  readonly narrowSvg: string;
  readonly points: number;
}

type Spec = Record<string, unknown>;

const SIZES = { wide: { width: 960, height: 260 }, narrow: { width: 300, height: 200 } } as const;

const CONFIG = {
  font: 'Lato, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, gridColor: '#eceff1' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom', direction: 'horizontal', labelLimit: 260, columns: 3 },
  view: { stroke: null },
};

/** A time axis in UTC, labelled HH:MM. */
const timeX = (title: string) => ({ field: 'at', type: 'temporal', title, scale: { type: 'utc' }, axis: { format: '%H:%M', labelAngle: 0, tickCount: 8 } });

async function toSvg(spec: Spec, size: { width: number; height: number }, title: string): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const narrow = size.width < 400;
  const config = narrow ? { ...CONFIG, axis: { ...CONFIG.axis, tickCount: 4 }, legend: { ...CONFIG.legend, columns: 2 } } : CONFIG;
  const sized = { ...size, ...spec, ...(typeof spec.height === 'number' ? { height: spec.height } : {}) };
  const compiled = vegaLite.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config, ...sized } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // Scales with its box: keep the viewBox, let CSS set the size.
    return svg.replace(/^<svg([^>]*?) width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/, `<svg$1 role="img" aria-label="${title.replace(/"/g, '')}"`);
  } finally {
    view.finalize();
  }
}

async function render(id: string, title: string, caption: string, spec: Spec, points: number): Promise<Chart> {
  const narrowSpec = { ...spec, ...(spec.encoding ? { encoding: narrowAxes(spec.encoding as Spec) } : {}), ...(Array.isArray(spec.layer) ? { layer: (spec.layer as Spec[]).map((l) => ({ ...l, ...(l.encoding ? { encoding: narrowAxes(l.encoding as Spec) } : {}) })) } : {}) };
  return { id, title, caption, svg: await toSvg(spec, SIZES.wide, title), narrowSvg: await toSvg(narrowSpec, SIZES.narrow, title), points };
}

/** On a phone: fewer time ticks, shorter axis titles. */
function narrowAxes(encoding: Spec): Spec {
  const x = encoding.x as Spec | undefined;
  if (!x || x.type !== 'temporal') return encoding;
  return { ...encoding, x: { ...x, title: null, axis: { ...(x.axis as Spec), tickCount: 4 } } };
}

export interface StatePoint {
  readonly at: string;
  readonly state: State;
  readonly pods: number;
}

export function statesChart(points: readonly StatePoint[], timeTitle: string): Promise<Chart> {
  const used = STATES.filter((state) => points.some((p) => p.state === state && p.pods > 0));
  return render(
    'chart-states',
    'Pods per state over the run',
    'Every sweep classifies every injected pod; the worst state wins. Stacked, so the top edge is the pods sampled.',
    {
      data: { values: points.map((p) => ({ ...p, order: STATES.indexOf(p.state) })) },
      mark: { type: 'area', interpolate: 'step-after', line: false },
      encoding: {
        x: timeX(timeTitle),
        y: { field: 'pods', type: 'quantitative', stack: 'zero', title: 'pods' },
        color: { field: 'state', type: 'nominal', title: 'state', scale: { domain: used, range: used.map((s) => STATE_COLORS[s]) }, sort: used },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [{ field: 'state' }, { field: 'pods' }],
      },
    },
    points.length,
  );
}

export interface RemainingPoint {
  readonly at: string;
  readonly minutes: number;
}

export interface Thresholdline {
  readonly label: string;
  readonly minutes: number;
  readonly color: string;
}

export function remainingChart(points: readonly RemainingPoint[], thresholds: readonly Thresholdline[], timeTitle: string): Promise<Chart> {
  const lines = [...thresholds, { label: 'expired', minutes: 0, color: STATE_COLORS.expired }];
  return render(
    'chart-remaining',
    'Minimum remaining validity against the thresholds',
    'The certificate closest to expiry at each sweep, in minutes. Below "expiring" the remediator acts; at 0 the sidecar serves an expired certificate.',
    {
      layer: [
        {
          data: { values: points },
          mark: { type: 'line', point: { size: 28 }, color: '#1f77b4', strokeWidth: 2, interpolate: 'linear' },
          encoding: {
            x: timeX(timeTitle),
            y: { field: 'minutes', type: 'quantitative', title: 'minutes of validity left', scale: { zero: true } },
            tooltip: [{ field: 'minutes', title: 'minutes left' }],
          },
        },
        {
          data: { values: lines },
          mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
          encoding: { y: { field: 'minutes', type: 'quantitative' }, color: { field: 'color', type: 'nominal', scale: null } },
        },
        {
          data: { values: lines },
          mark: { type: 'text', align: 'left', dx: 4, dy: -6, fontSize: 11 },
          encoding: { x: { value: 0 }, y: { field: 'minutes', type: 'quantitative' }, text: { field: 'label' }, color: { field: 'color', type: 'nominal', scale: null } },
        },
      ],
    },
    points.length,
  );
}

export interface RestartPoint {
  readonly at: string;
  readonly who: string;
  readonly pods: number;
}

export function restartsChart(points: readonly RestartPoint[], timeTitle: string): Promise<Chart> {
  const who = [...new Set(points.map((p) => p.who))];
  return render(
    'chart-restarts',
    'Pod restarts: the watcher against the 45-minute CronJob',
    'Cumulative pods restarted. The CronJob restarts every pod every 45 minutes; the watcher restarts only the workloads of pods that stopped rotating.',
    {
      data: { values: points },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2.5, point: { size: 20 } },
      encoding: {
        x: timeX(timeTitle),
        y: { field: 'pods', type: 'quantitative', title: 'pods restarted (cumulative)' },
        color: { field: 'who', type: 'nominal', title: null, scale: { domain: who, range: ['#1f77b4', '#d62728', '#7f7f7f'].slice(0, who.length) } },
        tooltip: [{ field: 'who' }, { field: 'pods' }],
      },
    },
    points.length,
  );
}

export interface BarPoint {
  readonly label: string;
  readonly group: string;
  readonly value: number;
}

/** Horizontal bars (e.g. the monthly cost by item). */
export function barsChart(id: string, title: string, caption: string, points: readonly BarPoint[], valueTitle: string): Promise<Chart> {
  return render(
    id,
    title,
    caption,
    {
      height: Math.max(120, points.length * 22),
      data: { values: points },
      mark: { type: 'bar', cornerRadiusEnd: 2 },
      encoding: {
        y: { field: 'label', type: 'nominal', title: null, sort: null, axis: { labelLimit: 260 } },
        x: { field: 'value', type: 'quantitative', title: valueTitle },
        color: { field: 'group', type: 'nominal', title: null },
        tooltip: [{ field: 'label' }, { field: 'value', format: '.2f' }],
      },
    },
    points.length,
  );
}
