/**
 * Durations and moments as text. Pure, unit-tested in
 * `__tests__/format.spec.ts`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import { toEpochSeconds } from '../model/selectors';
import { notAvailable } from './units';

/**
 * A duration in words, to the two largest units: "45 s", "14 min",
 * "2 h 5 min", "3 d 4 h".
 */
export function formatDuration(
  trans: TranslationBundle,
  seconds: number | null | undefined
): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    return notAvailable(trans);
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return trans.__('%1 s', s);
  }
  const minutes = Math.round(s / 60);
  if (minutes < 60) {
    return trans.__('%1 min', minutes);
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const m = minutes % 60;
    return m ? trans.__('%1 h %2 min', hours, m) : trans.__('%1 h', hours);
  }
  const days = Math.floor(hours / 24);
  const h = hours % 24;
  return h ? trans.__('%1 d %2 h', days, h) : trans.__('%1 d', days);
}

/** How long ago, from a number of seconds: "just now", "5 min ago", "2 h ago". */
export function formatAgo(
  trans: TranslationBundle,
  seconds: number | null | undefined
): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    return notAvailable(trans);
  }
  if (seconds < 45) {
    return trans.__('just now');
  }
  return trans.__('%1 ago', formatDuration(trans, seconds));
}

/** Local time of an epoch (the user's locale), with the date when it is not today. */
export function clockTime(epochSeconds: number, now: number): string {
  const date = new Date(epochSeconds * 1000);
  const time = date.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit'
  });
  return date.toDateString() === new Date(now).toDateString()
    ? time
    : `${date.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/** A moment and how long ago it was: "14:02 · 5 min ago". */
export function formatWhen(
  trans: TranslationBundle,
  value: number | string | null | undefined,
  now: number
): string {
  const epoch = toEpochSeconds(value);
  if (epoch === null) {
    return notAvailable(trans);
  }
  return `${clockTime(epoch, now)} · ${formatAgo(trans, now / 1000 - epoch)}`;
}
