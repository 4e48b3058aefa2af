/**
 * Pure formatting helpers shared by the panel and the status bar item.
 *
 * Nothing here touches the DOM or the network, so every rule is unit-tested
 * in `__tests__/format.spec.ts`.
 */
import type { Accelerator, IGpu } from './types';

/** Text shown where a value is unknown. */
export const NOT_AVAILABLE = 'n/a';

/** Byte units shown: binary ("GiB", powers of 1024) or decimal ("GB", powers of 1000). */
export type ByteUnits = 'GiB' | 'GB';

const UNIT_NAMES: { [units in ByteUnits]: string[] } = {
  GiB: ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'],
  GB: ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
};

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
 * Format a byte count: bytes as an integer ("512 B"), larger units with one
 * decimal ("9.1 GiB", "1.0 KiB"; "9.8 GB" with decimal units).
 */
export function formatBytes(
  bytes: number | null | undefined,
  units: ByteUnits = 'GiB'
): string {
  if (!isCount(bytes)) {
    return NOT_AVAILABLE;
  }
  const unit = byteUnit(bytes, units);
  return `${bytesIn(bytes, unit, units)} ${UNIT_NAMES[units][unit]}`;
}

/**
 * Format "used/total" in the unit of the total, e.g. "9.1/12.7 GiB".
 */
export function formatBytesPair(
  used: number | null | undefined,
  total: number | null | undefined,
  units: ByteUnits = 'GiB',
  separator = '/'
): string {
  if (!isCount(used) || !isCount(total)) {
    return `${formatBytes(used, units)}${separator}${formatBytes(total, units)}`;
  }
  const unit = byteUnit(total, units);
  return `${bytesIn(used, unit, units)}${separator}${bytesIn(total, unit, units)} ${UNIT_NAMES[units][unit]}`;
}

/** Format a growth rate per minute: "12.0 MiB/min". */
export function formatByteRate(
  bytesPerSecond: number,
  units: ByteUnits = 'GiB'
): string {
  const perMinute = bytesPerSecond * 60;
  const sign = perMinute < 0 ? '-' : '';
  return `${sign}${formatBytes(Math.abs(perMinute), units)}/min`;
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

/** Label for a TPU: "TPU v2-8", or "TPU" when the type is unknown. */
export function tpuLabel(acceleratorType: string | null | undefined): string {
  return acceleratorType ? `TPU ${acceleratorType}` : 'TPU';
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
      short = label;
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
 * "TPU v2-8", or "CPU only" when there is none.
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
  return typeof celsius === 'number'
    ? `${Math.round(celsius)} °C`
    : NOT_AVAILABLE;
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
  return typeof limit === 'number'
    ? `${drawText} / ${Math.round(limit)} W`
    : drawText;
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
 * A countdown as mm:ss ("82:10", "04:59"); minutes are not wrapped into
 * hours so that the figure reads the same everywhere. A fraction of a second
 * rounds up, so "00:00" means the moment has come.
 */
export function formatCountdown(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    return NOT_AVAILABLE;
  }
  const whole = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  return `${String(minutes).padStart(2, '0')}:${String(rest).padStart(2, '0')}`;
}

/** Seconds under which a countdown turns amber. */
export const COUNTDOWN_WARN_SECONDS = 10 * 60;
/** Seconds under which a countdown turns red. */
export const COUNTDOWN_CRITICAL_SECONDS = 2 * 60;

/**
 * Colour of a countdown: amber under 10 minutes, red under 2. A fraction of a
 * second rounds up, as in {@link formatCountdown}, so "10:00" is never amber.
 */
export function countdownLevel(seconds: number | null | undefined): Level {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    return 'ok';
  }
  seconds = Math.ceil(seconds);
  if (seconds < COUNTDOWN_CRITICAL_SECONDS) {
    return 'critical';
  }
  if (seconds < COUNTDOWN_WARN_SECONDS) {
    return 'warn';
  }
  return 'ok';
}

/**
 * A duration in words, to the two largest units: "45 s", "14 min",
 * "2 h 5 min", "3 d 4 h".
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    return NOT_AVAILABLE;
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return `${s} s`;
  }
  const minutes = Math.round(s / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const m = minutes % 60;
    return m ? `${hours} h ${m} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  const h = hours % 24;
  return h ? `${days} d ${h} h` : `${days} d`;
}

/** How long ago, from a number of seconds: "just now", "5 min ago", "2 h ago". */
export function formatAgo(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    return NOT_AVAILABLE;
  }
  if (seconds < 45) {
    return 'just now';
  }
  return `${formatDuration(seconds)} ago`;
}

/** Epoch seconds from the server's epoch numbers or ISO strings; null otherwise. */
export function toEpochSeconds(
  value: number | string | null | undefined
): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : null;
  }
  if (typeof value === 'string' && value) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms / 1000 : null;
  }
  return null;
}

/** The file name of a notebook path ("work/train.ipynb" -> "train.ipynb"). */
export function notebookName(path: string | null | undefined): string {
  if (!path) {
    return 'no notebook';
  }
  const parts = path.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

/** What ends a kernel when its countdown runs out, in words. */
export function cullReasonText(reason: string | null | undefined): string {
  switch (reason) {
    case 'idle-culling':
      return 'idle culling';
    case 'idle-timeout':
      return 'idle disconnect';
    case 'max-lifetime':
      return 'end of maximum lifetime';
    default:
      return reason ? String(reason).replace(/-/g, ' ') : 'nothing';
  }
}

/** Short label of a countdown's reason for the status bar: "idle" or "ends". */
export function countdownShortLabel(reason: string | null | undefined): string {
  return reason === 'max-lifetime' || reason === 'lifetime' ? 'ends' : 'idle';
}

/** Human names of the policy settings of the sessions endpoint. */
const POLICY_LABELS: { [name: string]: string } = {
  cull_idle_timeout: 'Idle kernels culled after',
  cull_interval: 'Culler checks every',
  cull_connected: 'Cull kernels with a tab open',
  cull_busy: 'Cull busy kernels',
  shutdown_no_activity_timeout: 'Server shuts down after no activity for',
  idle_timeout: 'Idle disconnect after',
  max_lifetime: 'Maximum lifetime',
  enforce: 'colab-guard enforces the limits'
};

/** The label of one policy setting. */
export function policyLabel(name: string): string {
  const label = POLICY_LABELS[name];
  if (label) {
    return label;
  }
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The value of one policy setting: a duration, yes/no, or "not set". */
export function policyValue(item: {
  value: number | boolean | null;
  unit?: string | null;
}): string {
  const value = item.value;
  if (value === null || value === undefined) {
    return 'not set';
  }
  if (typeof value === 'boolean') {
    return value ? 'yes' : 'no';
  }
  if (item.unit === 'seconds' || item.unit === undefined) {
    return formatDuration(value);
  }
  return item.unit ? `${value} ${item.unit}` : String(value);
}

/** An amount of money: "1.23 USD", "0.0042 USD" (small amounts keep 2 significant digits). */
export function formatMoney(
  amount: number | null | undefined,
  unit: string
): string {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) {
    return NOT_AVAILABLE;
  }
  let text: string;
  if (amount === 0 || Math.abs(amount) >= 0.01) {
    text = amount.toFixed(2);
  } else {
    text = String(Number(amount.toPrecision(2)));
  }
  return `${text} ${unit}`;
}

/** The fields of a post-mortem the headline reads. */
export interface IDeathFacts {
  cause: string;
  confidence?: string;
  signal?: string | null;
  exit_code?: number | null;
  working_set?: number | null;
  limit?: number | null;
  percent?: number | null;
}

/**
 * Why a kernel died, in a few words: "OOM at 11.8 of 12.0 GiB",
 * "Likely OOM at 11.8 of 12.0 GiB", "Killed (SIGKILL)", "Crashed (SIGSEGV)",
 * "Crashed (exit code 1)", "Exited".
 */
export function deathHeadline(
  facts: IDeathFacts,
  units: ByteUnits = 'GiB'
): string {
  const known = isCount(facts.working_set) && isCount(facts.limit);
  switch (facts.cause) {
    case 'oom-killer': {
      const prefix = facts.confidence === 'likely' ? 'Likely OOM' : 'OOM';
      if (known) {
        return `${prefix} at ${formatBytesPair(facts.working_set, facts.limit, units, ' of ')}`;
      }
      return `${prefix} (killed by the out-of-memory killer)`;
    }
    case 'killed':
      return `Killed${facts.signal ? ` (${facts.signal})` : ''}`;
    case 'crashed':
      if (facts.signal) {
        return `Crashed (${facts.signal})`;
      }
      return typeof facts.exit_code === 'number'
        ? `Crashed (exit code ${facts.exit_code})`
        : 'Crashed';
    case 'exited':
      return 'Exited';
    default:
      return facts.cause ? String(facts.cause) : 'Died';
  }
}

/** The compact countdown of the status bar: "idle 82:10". */
export interface IStatusCountdown {
  seconds: number;
  reason: string | null;
}

/**
 * The status bar text: "T4 · RAM 9.1/12.7 GiB" (working set / limit), and
 * " · idle 82:10" when a countdown runs.
 */
export function statusBarText(
  accelerators: Accelerator[] | null | undefined,
  workingSet: number,
  limit: number,
  units: ByteUnits = 'GiB',
  countdown: IStatusCountdown | null = null
): string {
  const text = `${acceleratorShortSummary(accelerators)} · RAM ${formatBytesPair(workingSet, limit, units)}`;
  if (!countdown) {
    return text;
  }
  return `${text} · ${countdownShortLabel(countdown.reason)} ${formatCountdown(countdown.seconds)}`;
}

/** The fields of the sessions payload {@link nearestCountdown} reads. */
export interface ICountdownSource {
  server?: {
    seconds_to_shutdown?: number | null;
    seconds_to_idle_disconnect?: number | null;
    seconds_to_lifetime_end?: number | null;
  } | null;
  kernels?:
    { seconds_to_cull: number | null; cull_reason: string | null }[] | null;
}

/**
 * The countdown to show in the status bar: the smallest `seconds_to_cull` of
 * the kernels; without any, the server's own (shutdown, idle disconnect,
 * lifetime); null when nothing is scheduled.
 */
export function nearestCountdown(
  sessions: ICountdownSource | null | undefined
): IStatusCountdown | null {
  if (!sessions) {
    return null;
  }
  const valid = (s: number | null | undefined): s is number =>
    typeof s === 'number' && Number.isFinite(s);
  let best: IStatusCountdown | null = null;
  for (const kernel of sessions.kernels ?? []) {
    if (
      valid(kernel.seconds_to_cull) &&
      (!best || kernel.seconds_to_cull < best.seconds)
    ) {
      best = { seconds: kernel.seconds_to_cull, reason: kernel.cull_reason };
    }
  }
  if (best) {
    return best;
  }
  const server = sessions.server ?? {};
  const candidates: [number | null | undefined, string][] = [
    [server.seconds_to_shutdown, 'shutdown'],
    [server.seconds_to_idle_disconnect, 'idle-timeout'],
    [server.seconds_to_lifetime_end, 'max-lifetime']
  ];
  for (const [seconds, reason] of candidates) {
    if (valid(seconds) && (!best || seconds < best.seconds)) {
      best = { seconds, reason };
    }
  }
  return best;
}
