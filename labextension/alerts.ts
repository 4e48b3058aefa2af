/**
 * What deserves a notification right now: pure rules over the latest
 * answers, unit-tested in `__tests__/alerts.spec.ts`. Whether a condition is
 * new (and so notified) is {@link EpisodeTracker}'s job, not this module's.
 */
import {
  deathHeadline,
  formatBytes,
  formatCountdown,
  formatMoney,
  formatPercent,
  limitSourceLabel,
  notebookName,
  percentOf,
  toEpochSeconds
} from './format';
import type { IGuardSettings } from './settings';
import type { IPostmortem, IPostmortems, IResources, ISessions } from './types';

/** Which rule raised an alert (each can be turned off in the settings). */
export type AlertKind = 'memory' | 'idle' | 'oom' | 'low-utilization';

/** One condition that holds now. */
export interface IAlert {
  /** Episode key: the same condition keeps the same key while it lasts. */
  key: string;
  kind: AlertKind;
  /** The notification's type. */
  type: 'warning' | 'error';
  /** At most 140 characters (JupyterLab truncates longer messages). */
  message: string;
  /** A command to copy, for the "Copy restore command" action. */
  restore?: string;
}

/** What the rules read. */
export interface IAlertInput {
  resources: IResources;
  sessions?: ISessions | null;
  postmortems?: IPostmortems | null;
}

/** Post-mortems older than this (before the server's clock) are not notified. */
export const RECENT_DEATH_SECONDS = 15 * 60;

/** Memory at or past the warning level. */
function memoryAlert(
  input: IAlertInput,
  settings: IGuardSettings
): IAlert | null {
  const memory = input.resources.host?.memory;
  const percent = percentOf(memory?.working_set, memory?.limit);
  if (percent === null || percent < settings.memoryWarningPercent) {
    return null;
  }
  const units = settings.units;
  return {
    key: 'memory',
    kind: 'memory',
    type: percent >= 90 ? 'error' : 'warning',
    message:
      `Memory at ${formatPercent(percent)} of the ${formatBytes(memory.limit, units)} limit ` +
      `(${limitSourceLabel(memory.limit_source)}): ${formatBytes(memory.working_set, units)} in use.`
  };
}

/**
 * Kernels close to idle culling (one alert each), and the runtime close to its
 * idle disconnect, its maximum lifetime or the server's own shutdown (one
 * alert each, however many kernels those end).
 */
function idleAlerts(sessions: ISessions, settings: IGuardSettings): IAlert[] {
  const limit = settings.idleWarningMinutes * 60;
  const out: IAlert[] = [];
  const soon = (s: number | null | undefined): s is number =>
    typeof s === 'number' && Number.isFinite(s) && s <= limit;
  for (const kernel of sessions.kernels ?? []) {
    if (
      kernel.cull_reason !== 'idle-culling' ||
      !soon(kernel.seconds_to_cull)
    ) {
      continue;
    }
    out.push({
      key: `idle:${kernel.id}`,
      kind: 'idle',
      type: 'warning',
      message: `The kernel of ${notebookName(kernel.path)} is shut down for inactivity in ${formatCountdown(kernel.seconds_to_cull)}. Run a cell to keep it.`
    });
  }
  const server = sessions.server ?? ({} as ISessions['server']);
  if (soon(server.seconds_to_idle_disconnect)) {
    out.push({
      key: 'server:idle',
      kind: 'idle',
      type: 'warning',
      message: `This runtime is disconnected for inactivity in ${formatCountdown(server.seconds_to_idle_disconnect)}. Save your work.`
    });
  }
  if (soon(server.seconds_to_lifetime_end)) {
    out.push({
      key: 'server:lifetime',
      kind: 'idle',
      type: 'warning',
      message: `This runtime reaches its maximum lifetime in ${formatCountdown(server.seconds_to_lifetime_end)}. Save your work.`
    });
  }
  if (soon(server.seconds_to_shutdown)) {
    out.push({
      key: 'server:shutdown',
      kind: 'idle',
      type: 'warning',
      message: `The Jupyter server shuts down for inactivity in ${formatCountdown(server.seconds_to_shutdown)}.`
    });
  }
  return out;
}

/** The episode key of a post-mortem. */
export function postmortemKey(pm: IPostmortem): string {
  return `${pm.kernel_id ?? pm.notebook ?? 'kernel'}@${pm.died_at ?? ''}`;
}

/** Kernels the OOM killer took recently. */
function oomAlerts(input: IAlertInput, settings: IGuardSettings): IAlert[] {
  const postmortems = input.postmortems;
  if (!postmortems) {
    return [];
  }
  const now = input.resources.timestamp;
  const out: IAlert[] = [];
  for (const pm of [
    ...(postmortems.kernels ?? []),
    ...(postmortems.previous_session ?? [])
  ]) {
    if (pm.cause !== 'oom-killer') {
      continue;
    }
    const died = toEpochSeconds(pm.died_at);
    if (
      died === null ||
      (typeof now === 'number' && now - died > RECENT_DEATH_SECONDS)
    ) {
      continue;
    }
    const name = notebookName(pm.notebook);
    const why = deathHeadline(pm, settings.units);
    const snapshot = pm.snapshot;
    out.push({
      key: `oom:${postmortemKey(pm)}`,
      kind: 'oom',
      type: 'error',
      message: snapshot
        ? `The kernel of ${name} died: ${why}. Its variables were saved: ${snapshot.restore}`
        : `The kernel of ${name} died: ${why}. No snapshot was saved.`,
      restore: snapshot?.restore
    });
  }
  return out;
}

/** The server's advice about sustained low GPU utilisation. */
function lowUtilizationAlert(sessions: ISessions): IAlert | null {
  const warning = (sessions.warnings ?? []).find(
    w => w.kind === 'low-utilization'
  );
  if (!warning) {
    return null;
  }
  const minutes =
    typeof warning.minutes === 'number'
      ? ` for ${Math.round(warning.minutes)} min`
      : '';
  const threshold = sessions.cost?.low_utilization_threshold;
  const under =
    typeof threshold === 'number'
      ? `under ${Math.round(threshold)}%`
      : 'barely used';
  const cost = sessions.cost
    ? `: ${formatMoney(sessions.cost.accrued_low_utilization, sessions.cost.unit)} spent at low utilisation`
    : '';
  return {
    key: 'low-utilization',
    kind: 'low-utilization',
    type: 'warning',
    message: `GPU ${under}${minutes} while holding memory${cost}. See the colab-guard panel for causes.`
  };
}

/** Every alert that holds now and is turned on in the settings. */
export function collectAlerts(
  input: IAlertInput,
  settings: IGuardSettings
): IAlert[] {
  const out: IAlert[] = [];
  if (settings.notifyMemory) {
    const memory = memoryAlert(input, settings);
    if (memory) {
      out.push(memory);
    }
  }
  if (settings.notifyOom) {
    out.push(...oomAlerts(input, settings));
  }
  if (input.sessions && settings.notifyIdle) {
    out.push(...idleAlerts(input.sessions, settings));
  }
  if (input.sessions && settings.notifyLowUtilization) {
    const low = lowUtilizationAlert(input.sessions);
    if (low) {
      out.push(low);
    }
  }
  return out;
}
