/**
 * Pure formatting helpers shared by the panel and the status bar item.
 *
 * Nothing here touches the DOM or the network, so every rule is unit-tested
 * in `__tests__/format.spec.ts`.
 */
import type { Accelerator, IGpu } from './types';

/** Text shown where a value is unknown. */
export const NOT_AVAILABLE = 'n/a';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Pick the binary unit for a byte count: the largest one in which the value,
 * rounded to one decimal, is at least 1 and below 1024.
 */
function byteUnit(bytes: number): number {
  let unit = 0;
  let value = bytes;
  while (unit < BYTE_UNITS.length - 1) {
    const rounded = unit === 0 ? value : Math.round(value * 10) / 10;
    if (rounded < 1024) {
      break;
    }
    value /= 1024;
    unit += 1;
  }
  return unit;
}

/** Format a number of bytes in the given unit index, without the unit. */
function bytesIn(bytes: number, unit: number): string {
  const value = bytes / Math.pow(1024, unit);
  return unit === 0 ? String(Math.round(value)) : value.toFixed(1);
}

/** True for a finite, non-negative number. */
function isCount(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * Format a byte count with binary units: bytes as an integer ("512 B"),
 * larger units with one decimal ("9.1 GiB", "1.0 KiB").
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (!isCount(bytes)) {
    return NOT_AVAILABLE;
  }
  const unit = byteUnit(bytes);
  return `${bytesIn(bytes, unit)} ${BYTE_UNITS[unit]}`;
}

/**
 * Format "used/total" in the unit of the total, e.g. "9.1/12.7 GiB".
 */
export function formatBytesPair(
  used: number | null | undefined,
  total: number | null | undefined
): string {
  if (!isCount(used) || !isCount(total)) {
    return `${formatBytes(used)}/${formatBytes(total)}`;
  }
  const unit = byteUnit(total);
  return `${bytesIn(used, unit)}/${bytesIn(total, unit)} ${BYTE_UNITS[unit]}`;
}

/**
 * The share of `used` in `total` as a percentage, or null when the total is
 * unknown or zero. Not clamped: a working set above its limit reads > 100.
 */
export function percentOf(
  used: number | null | undefined,
  total: number | null | undefined
): number | null {
  if (!isCount(used) || !isCount(total) || total === 0) {
    return null;
  }
  return (used / total) * 100;
}

/** Clamp a percentage into 0..100 (for bar widths and aria-valuenow). */
export function clampPercent(percent: number | null | undefined): number {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) {
    return 0;
  }
  return Math.min(100, Math.max(0, percent));
}

/**
 * Format a percentage as a whole number ("72%"); a non-zero value below 1
 * reads "<1%" so that a little load does not look like none.
 */
export function formatPercent(percent: number | null | undefined): string {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) {
    return NOT_AVAILABLE;
  }
  if (percent > 0 && percent < 1) {
    return '<1%';
  }
  return `${Math.round(percent)}%`;
}

/** How full a bar is, used for its colour. */
export type Level = 'ok' | 'warn' | 'critical';

/** Map a percentage to a level: warn from 80 %, critical from 90 %. */
export function usageLevel(percent: number | null | undefined): Level {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) {
    return 'ok';
  }
  if (percent >= 90) {
    return 'critical';
  }
  if (percent >= 80) {
    return 'warn';
  }
  return 'ok';
}

/** Describe where the memory limit comes from, in words. */
export function limitSourceLabel(source: string | null | undefined): string {
  switch (source) {
    case 'cgroup-v2':
    case 'cgroup-v1':
      return 'container limit';
    case 'env':
      return 'JupyterHub limit (MEM_LIMIT)';
    case 'config':
      return 'set by admin';
    case 'host':
      return 'host RAM';
    default:
      return source ? String(source) : 'unknown';
  }
}

/** Drop the vendor prefix NVML puts in front of GPU names ("Tesla T4" -> "T4"). */
export function shortGpuName(name: string): string {
  const short = name.replace(/^(NVIDIA|Tesla)\s+/i, '').trim();
  return short || name;
}

/** Label for a TPU: "TPU (v2-8)", or "TPU" when the type is unknown. */
export function tpuLabel(acceleratorType: string | null | undefined): string {
  return acceleratorType ? `TPU (${acceleratorType})` : 'TPU';
}

interface IGroup {
  label: string;
  short: string;
  count: number;
}

/** Group accelerators by model, keeping the order they were reported in. */
function groupAccelerators(accelerators: Accelerator[]): IGroup[] {
  const groups: IGroup[] = [];
  for (const accelerator of accelerators) {
    let label: string;
    let short: string;
    if (accelerator.kind === 'gpu') {
      label = (accelerator as IGpu).name || 'GPU';
      short = shortGpuName(label);
    } else if (accelerator.kind === 'tpu') {
      label = tpuLabel(accelerator.accelerator_type);
      short = accelerator.accelerator_type
        ? `TPU ${accelerator.accelerator_type}`
        : 'TPU';
    } else {
      continue;
    }
    const group = groups.find(g => g.label === label);
    if (group) {
      group.count += 1;
    } else {
      groups.push({ label, short, count: 1 });
    }
  }
  return groups;
}

/**
 * One line naming the accelerators: "Tesla T4 x1", "NVIDIA A100-SXM4-40GB x2",
 * "TPU (v2-8)", or "CPU only" when there is none.
 */
export function acceleratorSummary(
  accelerators: Accelerator[] | null | undefined
): string {
  const groups = groupAccelerators(accelerators ?? []);
  if (groups.length === 0) {
    return 'CPU only';
  }
  return groups
    .map(g => (g.label.startsWith('TPU') ? g.label : `${g.label} x${g.count}`))
    .join(', ');
}

/** The compact form for the status bar: "T4", "2× A100-SXM4-40GB", "CPU". */
export function acceleratorShortSummary(
  accelerators: Accelerator[] | null | undefined
): string {
  const groups = groupAccelerators(accelerators ?? []);
  if (groups.length === 0) {
    return 'CPU';
  }
  return groups
    .map(g => (g.count > 1 ? `${g.count}× ${g.short}` : g.short))
    .join(', ');
}

/**
 * Say plainly why no accelerator is listed, or null when the probe went fine
 * (status "ok").
 */
export function acceleratorStatusText(
  status: string | null | undefined
): string | null {
  switch (status) {
    case 'ok':
      return null;
    case 'none':
      return 'No GPU or TPU found';
    case 'no-driver':
      return 'No NVIDIA driver found';
    case 'error':
      return 'Could not read the accelerators';
    default:
      return status ? `Accelerator status: ${status}` : null;
  }
}

/** Format a number without trailing zeros, at most `digits` decimals. */
export function formatNumber(value: number, digits = 1): string {
  return String(Number(value.toFixed(digits)));
}

/** "1 CPU", "4 CPUs", "1.5 CPUs". */
export function formatCpus(count: number): string {
  return `${formatNumber(count, 2)} ${count === 1 ? 'CPU' : 'CPUs'}`;
}

/** Describe the CPU quota: "quota 2 CPUs", or "no CPU quota". */
export function formatCpuQuota(quota: number | null | undefined): string {
  if (typeof quota !== 'number' || !Number.isFinite(quota) || quota <= 0) {
    return 'no CPU quota';
  }
  return `quota ${formatCpus(quota)}`;
}

/** "63 °C", or n/a. */
export function formatTemperature(celsius: number | null | undefined): string {
  return typeof celsius === 'number' ? `${Math.round(celsius)} °C` : NOT_AVAILABLE;
}

/** "70 W / 250 W", "70 W", or n/a. */
export function formatPower(
  draw: number | null | undefined,
  limit: number | null | undefined
): string {
  if (typeof draw !== 'number') {
    return NOT_AVAILABLE;
  }
  const drawText = `${Math.round(draw)} W`;
  return typeof limit === 'number' ? `${drawText} / ${Math.round(limit)} W` : drawText;
}

/** Name the environment the server runs in, with the user when known. */
export function environmentLabel(
  kind: string | null | undefined,
  user?: string | null
): string {
  let label: string;
  switch (kind) {
    case 'local':
      label = 'Local';
      break;
    case 'colab':
      label = 'Colab';
      break;
    case 'jupyterhub':
      label = 'JupyterHub';
      break;
    default:
      label = kind ? String(kind) : 'Unknown';
  }
  return user ? `${label} (${user})` : label;
}

/** Human name for an entry of `host.disk`. */
export function diskLabel(key: string): string {
  switch (key) {
    case 'root_dir':
      return 'Notebook directory';
    case 'snapshot_dir':
      return 'Snapshot directory';
    default: {
      const words = key.replace(/_/g, ' ').trim();
      return words.charAt(0).toUpperCase() + words.slice(1);
    }
  }
}

/** Why a poll failed. */
export interface IFetchFailure {
  /** "network": no answer; "http": an error status; "payload": bad JSON. */
  kind: 'network' | 'http' | 'payload';
  /** The HTTP status, for kind "http". */
  status?: number;
}

/** Headline shown instead of the numbers when a poll fails. */
export function fetchFailureText(failure: IFetchFailure): string {
  switch (failure.kind) {
    case 'network':
      return 'Server unreachable';
    case 'payload':
      return 'Unexpected answer from the server';
    case 'http':
      if (failure.status === 404) {
        return 'colab-guard server extension not found (HTTP 404)';
      }
      if (failure.status === 403 || failure.status === 401) {
        return `Not authorised (HTTP ${failure.status})`;
      }
      return `Server error (HTTP ${failure.status ?? '?'})`;
  }
}

/**
 * The status bar text: "T4 · RAM 9.1/12.7 GiB" (working set / limit).
 */
export function statusBarText(
  accelerators: Accelerator[] | null | undefined,
  workingSet: number,
  limit: number
): string {
  return `${acceleratorShortSummary(accelerators)} · RAM ${formatBytesPair(workingSet, limit)}`;
}
