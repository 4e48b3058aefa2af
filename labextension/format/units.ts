/**
 * Quantities as text: bytes, percentages, countdowns, power, money. Every
 * word goes through the translation bundle given first; unit symbols (GiB,
 * W, °C) and digits do not. Pure, unit-tested in `__tests__/format.spec.ts`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

/** Byte units shown: binary ("GiB", powers of 1024) or decimal ("GB", powers of 1000). */
export type ByteUnits = 'GiB' | 'GB';

const UNIT_NAMES: { [units in ByteUnits]: string[] } = {
  GiB: ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'],
  GB: ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
};

/** What stands where a value is unknown. */
export function notAvailable(trans: TranslationBundle): string {
  return trans.__('n/a');
}

function base(units: ByteUnits): number {
  return units === 'GB' ? 1000 : 1024;
}

/**
 * Pick the unit for a byte count: the largest one in which the value,
 * rounded to one decimal, is at least 1 and below the base (1024 or 1000).
 */
function byteUnit(bytes: number, units: ByteUnits): number {
  const b = base(units);
  let unit = 0;
  let value = bytes;
  while (unit < UNIT_NAMES[units].length - 1) {
    const rounded = unit === 0 ? value : Math.round(value * 10) / 10;
    if (rounded < b) {
      break;
    }
    value /= b;
    unit += 1;
  }
  return unit;
}

/** Format a number of bytes in the given unit index, without the unit. */
function bytesIn(bytes: number, unit: number, units: ByteUnits): string {
  const value = bytes / Math.pow(base(units), unit);
  return unit === 0 ? String(Math.round(value)) : value.toFixed(1);
}

/** True for a finite, non-negative number. */
function isCount(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * A byte count: bytes as an integer ("512 B"), larger units with one decimal
 * ("9.1 GiB", "1.0 KiB"; "9.8 GB" with decimal units).
 */
export function formatBytes(
  trans: TranslationBundle,
  bytes: number | null | undefined,
  units: ByteUnits = 'GiB'
): string {
  if (!isCount(bytes)) {
    return notAvailable(trans);
  }
  const unit = byteUnit(bytes, units);
  return `${bytesIn(bytes, unit, units)} ${UNIT_NAMES[units][unit]}`;
}

/** Two byte counts in the unit of the second: the numbers and the unit apart. */
export interface IBytesPair {
  used: string;
  total: string;
  unit: string;
}

/** `used` and `total` in the unit of the total, or null when either is unknown. */
export function bytesPair(
  used: number | null | undefined,
  total: number | null | undefined,
  units: ByteUnits = 'GiB'
): IBytesPair | null {
  if (!isCount(used) || !isCount(total)) {
    return null;
  }
  const unit = byteUnit(total, units);
  return {
    used: bytesIn(used, unit, units),
    total: bytesIn(total, unit, units),
    unit: UNIT_NAMES[units][unit]
  };
}

/** "used/total" in the unit of the total, e.g. "9.1/12.7 GiB". */
export function formatBytesPair(
  trans: TranslationBundle,
  used: number | null | undefined,
  total: number | null | undefined,
  units: ByteUnits = 'GiB'
): string {
  const pair = bytesPair(used, total, units);
  if (!pair) {
    return `${formatBytes(trans, used, units)}/${formatBytes(trans, total, units)}`;
  }
  return `${pair.used}/${pair.total} ${pair.unit}`;
}

/** A growth rate per minute: "12.0 MiB/min". */
export function formatByteRate(
  trans: TranslationBundle,
  bytesPerSecond: number,
  units: ByteUnits = 'GiB'
): string {
  const perMinute = bytesPerSecond * 60;
  const sign = perMinute < 0 ? '-' : '';
  return trans.__(
    '%1/min',
    `${sign}${formatBytes(trans, Math.abs(perMinute), units)}`
  );
}

/** Clamp a percentage into 0..100 (for bar widths and aria-valuenow). */
export function clampPercent(percent: number | null | undefined): number {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) {
    return 0;
  }
  return Math.min(100, Math.max(0, percent));
}

/**
 * A percentage as a whole number ("72%"); a non-zero value below 1 reads
 * "<1%" so that a little load does not look like none.
 */
export function formatPercent(
  trans: TranslationBundle,
  percent: number | null | undefined
): string {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) {
    return notAvailable(trans);
  }
  if (percent > 0 && percent < 1) {
    return '<1%';
  }
  return `${Math.round(percent)}%`;
}

/** A number without trailing zeros, at most `digits` decimals. */
export function formatNumber(value: number, digits = 1): string {
  return String(Number(value.toFixed(digits)));
}

/** "1 CPU", "4 CPUs", "1.5 CPUs". */
export function formatCpus(trans: TranslationBundle, count: number): string {
  return trans._n('%2 CPU', '%2 CPUs', count, formatNumber(count, 2));
}

/** The CPU quota: "quota 2 CPUs", or "no CPU quota". */
export function formatCpuQuota(
  trans: TranslationBundle,
  quota: number | null | undefined
): string {
  if (typeof quota !== 'number' || !Number.isFinite(quota) || quota <= 0) {
    return trans.__('no CPU quota');
  }
  return trans.__('quota %1', formatCpus(trans, quota));
}

/** "63 °C", or n/a. */
export function formatTemperature(
  trans: TranslationBundle,
  celsius: number | null | undefined
): string {
  return typeof celsius === 'number'
    ? `${Math.round(celsius)} °C`
    : notAvailable(trans);
}

/** "70 W / 250 W", "70 W", or n/a. */
export function formatPower(
  trans: TranslationBundle,
  draw: number | null | undefined,
  limit: number | null | undefined
): string {
  if (typeof draw !== 'number') {
    return notAvailable(trans);
  }
  const drawText = `${Math.round(draw)} W`;
  return typeof limit === 'number'
    ? `${drawText} / ${Math.round(limit)} W`
    : drawText;
}

/** An amount of money: "1.23 USD", "0.0042 USD" (small amounts keep 2 significant digits). */
export function formatMoney(
  trans: TranslationBundle,
  amount: number | null | undefined,
  unit: string
): string {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) {
    return notAvailable(trans);
  }
  let text: string;
  if (amount === 0 || Math.abs(amount) >= 0.01) {
    text = amount.toFixed(2);
  } else {
    text = String(Number(amount.toPrecision(2)));
  }
  return `${text} ${unit}`;
}

/**
 * A countdown as mm:ss ("82:10", "04:59"); minutes are not wrapped into
 * hours so that the figure reads the same everywhere. A fraction of a second
 * rounds up, so "00:00" means the moment has come.
 */
export function formatCountdown(
  trans: TranslationBundle,
  seconds: number | null | undefined
): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    return notAvailable(trans);
  }
  const whole = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  return `${String(minutes).padStart(2, '0')}:${String(rest).padStart(2, '0')}`;
}
