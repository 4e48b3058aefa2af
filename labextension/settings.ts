/**
 * The user's settings (`labextension/schema/plugin.json`), read into one
 * checked object. Pure, unit-tested in `__tests__/settings.spec.ts` (which
 * also checks that the schema's defaults are these).
 */
import type { ByteUnits } from './format/units';

/** Every setting of the colab-guard plugin. */
export interface IGuardSettings {
  /** Seconds between polls of the server. */
  pollInterval: number;
  /** Snapshots, post-mortems and history are polled on every Nth poll. */
  slowPollEvery: number;
  /** Minutes of history shown in the sparklines. */
  historyMinutes: number;
  /** Minutes of history fitted for the time-to-limit projection. */
  projectionMinutes: number;
  /** "GiB" (powers of 1024) or "GB" (powers of 1000). */
  units: ByteUnits;
  /** Notify when memory passes memoryWarningPercent of the limit. */
  notifyMemory: boolean;
  /** Memory warning level, percent of the real limit. */
  memoryWarningPercent: number;
  /** Notify before a kernel or the server is shut down for inactivity or age. */
  notifyIdle: boolean;
  /** How many minutes ahead of an idle shutdown to notify. */
  idleWarningMinutes: number;
  /** Notify when a kernel was killed for lack of memory. */
  notifyOom: boolean;
  /** Notify on sustained low GPU utilisation (the server's advice). */
  notifyLowUtilization: boolean;
}

/** The defaults (the schema's defaults are checked against these). */
export const DEFAULT_SETTINGS: Readonly<IGuardSettings> = Object.freeze({
  pollInterval: 2,
  slowPollEvery: 5,
  historyMinutes: 10,
  projectionMinutes: 5,
  units: 'GiB',
  notifyMemory: true,
  memoryWarningPercent: 75,
  notifyIdle: true,
  idleWarningMinutes: 5,
  notifyOom: true,
  notifyLowUtilization: true
});

function numberIn(
  value: unknown,
  min: number,
  max: number,
  fallback: number
): number {
  return typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    value <= max
    ? value
    : fallback;
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

/**
 * Settings from the registry's composite (or any object): each value that is
 * missing or out of range falls back to its default.
 */
export function readSettings(
  raw: { [key: string]: unknown } | null | undefined
): IGuardSettings {
  const r = raw ?? {};
  const d = DEFAULT_SETTINGS;
  return {
    pollInterval: numberIn(r.pollInterval, 0.5, 3600, d.pollInterval),
    slowPollEvery: Math.round(
      numberIn(r.slowPollEvery, 1, 100, d.slowPollEvery)
    ),
    historyMinutes: numberIn(r.historyMinutes, 1, 1440, d.historyMinutes),
    projectionMinutes: numberIn(
      r.projectionMinutes,
      1,
      1440,
      d.projectionMinutes
    ),
    units: r.units === 'GB' || r.units === 'GiB' ? r.units : d.units,
    notifyMemory: bool(r.notifyMemory, d.notifyMemory),
    memoryWarningPercent: numberIn(
      r.memoryWarningPercent,
      1,
      100,
      d.memoryWarningPercent
    ),
    notifyIdle: bool(r.notifyIdle, d.notifyIdle),
    idleWarningMinutes: numberIn(
      r.idleWarningMinutes,
      0.5,
      1440,
      d.idleWarningMinutes
    ),
    notifyOom: bool(r.notifyOom, d.notifyOom),
    notifyLowUtilization: bool(r.notifyLowUtilization, d.notifyLowUtilization)
  };
}
