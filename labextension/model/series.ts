/**
 * The recent samples behind the sparklines and the memory projection: seeded
 * from `GET colab-guard/v1/history` and extended with every resources poll,
 * so the history endpoint need not be polled on every tick (and the
 * sparklines still fill up where it does not exist). Pure functions,
 * unit-tested in `__tests__/series.spec.ts`.
 */
import type { IHistory, IResources } from './types';

/** An empty series. */
export function emptySeries(interval = 1): IHistory {
  return {
    interval,
    t: [],
    memory_working_set: [],
    memory_limit: null,
    gpu_utilization: [],
    gpu_memory_used: []
  };
}

/** A checked copy of the history endpoint's answer (parallel arrays, equal lengths). */
export function seriesFromHistory(history: IHistory): IHistory {
  const n = Array.isArray(history.t) ? history.t.length : 0;
  const column = <T>(values: T[] | undefined): (T | null)[] => {
    const out: (T | null)[] = Array.isArray(values) ? values.slice(0, n) : [];
    while (out.length < n) {
      out.push(null);
    }
    return out;
  };
  return {
    interval: typeof history.interval === 'number' ? history.interval : 1,
    t: n ? history.t.slice() : [],
    memory_working_set: column(history.memory_working_set),
    memory_limit: history.memory_limit ?? null,
    gpu_utilization: (history.gpu_utilization ?? []).map(column),
    gpu_memory_used: (history.gpu_memory_used ?? []).map(column)
  };
}

/** The GPUs of a resources sample, in the order the history lists them. */
function gpus(resources: IResources) {
  return (resources.accelerators ?? []).filter(a => a.kind === 'gpu') as {
    utilization_gpu: number | null;
    memory_used: number | null;
  }[];
}

/**
 * The series with one resources sample appended (when it is newer than the
 * last one) and samples older than `windowSeconds` before it dropped.
 * Returns a new series; the argument is not changed.
 */
export function appendSample(
  series: IHistory,
  resources: IResources,
  windowSeconds: number
): IHistory {
  const t = resources.timestamp;
  const last = series.t.length ? series.t[series.t.length - 1] : -Infinity;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= last) {
    return trimSeries(series, windowSeconds);
  }
  const memory = resources.host?.memory;
  const devices = gpus(resources);
  const n = series.t.length;
  const count = Math.max(devices.length, series.gpu_utilization.length);
  const extend = (
    columns: (number | null)[][],
    pick: (i: number) => number | null
  ) => {
    const out: (number | null)[][] = [];
    for (let i = 0; i < count; i++) {
      const column = (columns[i] ?? new Array(n).fill(null)).slice();
      column.push(pick(i));
      out.push(column);
    }
    return out;
  };
  const next: IHistory = {
    interval: resources.sample_interval ?? series.interval,
    t: [...series.t, t],
    memory_working_set: [
      ...series.memory_working_set,
      memory?.working_set ?? null
    ],
    memory_limit: memory?.limit ?? series.memory_limit,
    gpu_utilization: extend(
      series.gpu_utilization,
      i => devices[i]?.utilization_gpu ?? null
    ),
    gpu_memory_used: extend(
      series.gpu_memory_used,
      i => devices[i]?.memory_used ?? null
    )
  };
  return trimSeries(next, windowSeconds);
}

/** Drop the samples older than `windowSeconds` before the newest one. */
export function trimSeries(series: IHistory, windowSeconds: number): IHistory {
  const n = series.t.length;
  if (n === 0) {
    return series;
  }
  const start = series.t[n - 1] - windowSeconds;
  let first = 0;
  while (first < n && series.t[first] < start) {
    first += 1;
  }
  if (first === 0) {
    return series;
  }
  return {
    ...series,
    t: series.t.slice(first),
    memory_working_set: series.memory_working_set.slice(first),
    gpu_utilization: series.gpu_utilization.map(c => c.slice(first)),
    gpu_memory_used: series.gpu_memory_used.map(c => c.slice(first))
  };
}

/** Geometry of a sparkline. */
export interface ISparklineBox {
  width: number;
  height: number;
  /** Epoch seconds at the left edge. */
  start: number;
  /** Epoch seconds at the right edge. */
  end: number;
  /** The value at the top edge (e.g. 100 for percentages). */
  max: number;
}

/**
 * The SVG path of a sparkline: x from time, y from value (0 at the bottom,
 * `max` at the top, clamped); a missing value breaks the line. Empty when
 * there are fewer than two points.
 */
export function sparklinePath(
  t: number[],
  values: (number | null)[],
  box: ISparklineBox
): string {
  const span = box.end - box.start;
  if (!(span > 0) || !(box.max > 0)) {
    return '';
  }
  const parts: string[] = [];
  let drawn = 0;
  let pen = false;
  const n = Math.min(t.length, values.length);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      t[i] < box.start ||
      t[i] > box.end
    ) {
      pen = false;
      continue;
    }
    const x = ((t[i] - box.start) / span) * box.width;
    const clamped = Math.min(box.max, Math.max(0, v));
    const y = box.height - (clamped / box.max) * box.height;
    parts.push(`${pen ? 'L' : 'M'}${round(x)},${round(y)}`);
    pen = true;
    drawn += 1;
  }
  return drawn >= 2 ? parts.join('') : '';
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** The smallest and largest known values, or null when there is none. */
export function valueRange(
  values: (number | null)[]
): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return Number.isFinite(min) ? { min, max } : null;
}
