/**
 * What deserves a notification right now: pure rules over the latest
 * answers, unit-tested in `__tests__/alerts.spec.ts`. Whether a condition is
 * new (and so notified) is {@link EpisodeTracker}'s job, not this module's.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import {
  deathHeadline,
  limitSourceLabel,
  notebookName
} from '../format/labels';
import {
  formatBytes,
  formatCountdown,
  formatMoney,
  formatPercent
} from '../format/units';
import { percentOf, postmortemKey, toEpochSeconds } from '../model/selectors';
import type { IPostmortems, IResources, ISessions } from '../model/types';
import type { IGuardSettings } from '../settings';

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
  trans: TranslationBundle,
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
    message: trans.__(
      'Memory at %1 of the %2 limit (%3): %4 in use.',
      formatPercent(trans, percent),
      formatBytes(trans, memory.limit, units),
      limitSourceLabel(trans, memory.limit_source),
      formatBytes(trans, memory.working_set, units)
    )
  };
}

/**
 * Kernels close to idle culling (one alert each), and the runtime close to its
 * idle disconnect, its maximum lifetime or the server's own shutdown (one
 * alert each, however many kernels those end).
 */
function idleAlerts(
  trans: TranslationBundle,
  sessions: ISessions,
  settings: IGuardSettings
): IAlert[] {
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
      message: trans.__(
        'The kernel of %1 is shut down for inactivity in %2. Run a cell to keep it.',
        notebookName(trans, kernel.path),
        formatCountdown(trans, kernel.seconds_to_cull)
      )
    });
  }
  const server = sessions.server ?? ({} as ISessions['server']);
  // the server's own countdowns: each key, its seconds, and what to say (%1: the time left)
  const countdowns: [
    string,
    number | null | undefined,
    (left: string) => string
  ][] = [
    [
      'server:idle',
      server.seconds_to_idle_disconnect,
      left =>
        trans.__(
          'This runtime is disconnected for inactivity in %1. Save your work.',
          left
        )
    ],
    [
      'server:lifetime',
      server.seconds_to_lifetime_end,
      left =>
        trans.__(
          'This runtime reaches its maximum lifetime in %1. Save your work.',
          left
        )
    ],
    [
      'server:shutdown',
      server.seconds_to_shutdown,
      left =>
        trans.__('The Jupyter server shuts down for inactivity in %1.', left)
    ]
  ];
  for (const [key, seconds, say] of countdowns) {
    if (soon(seconds)) {
      out.push({
        key,
        kind: 'idle',
        type: 'warning',
        message: say(formatCountdown(trans, seconds))
      });
    }
  }
  return out;
}

/** Kernels the OOM killer took recently. */
function oomAlerts(
  trans: TranslationBundle,
  input: IAlertInput,
  settings: IGuardSettings
): IAlert[] {
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
    const name = notebookName(trans, pm.notebook);
    const why = deathHeadline(trans, pm, settings.units);
    const snapshot = pm.snapshot;
    out.push({
      key: `oom:${postmortemKey(pm)}`,
      kind: 'oom',
      type: 'error',
      message: snapshot
        ? trans.__(
            'The kernel of %1 died: %2. Its variables were saved: %3',
            name,
            why,
            snapshot.restore
          )
        : trans.__(
            'The kernel of %1 died: %2. No snapshot was saved.',
            name,
            why
          ),
      restore: snapshot?.restore
    });
  }
  return out;
}

/** The server's advice about sustained low GPU utilisation. */
function lowUtilizationAlert(
  trans: TranslationBundle,
  sessions: ISessions
): IAlert | null {
  const warning = (sessions.warnings ?? []).find(
    w => w.kind === 'low-utilization'
  );
  if (!warning) {
    return null;
  }
  const minutes =
    typeof warning.minutes === 'number' ? Math.round(warning.minutes) : null;
  const threshold = sessions.cost?.low_utilization_threshold;
  const cost = sessions.cost
    ? formatMoney(
        trans,
        sessions.cost.accrued_low_utilization,
        sessions.cost.unit
      )
    : null;
  const under =
    typeof threshold === 'number'
      ? trans.__('GPU under %1%%', Math.round(threshold))
      : trans.__('GPU barely used');
  const held =
    minutes === null
      ? trans.__('%1 while holding memory', under)
      : trans.__('%1 for %2 min while holding memory', under, minutes);
  const message = cost
    ? trans.__(
        '%1: %2 spent at low utilisation. See the colab-guard panel for causes.',
        held,
        cost
      )
    : trans.__('%1. See the colab-guard panel for causes.', held);
  return {
    key: 'low-utilization',
    kind: 'low-utilization',
    type: 'warning',
    message
  };
}

/** Every alert that holds now and is turned on in the settings. */
export function collectAlerts(
  trans: TranslationBundle,
  input: IAlertInput,
  settings: IGuardSettings
): IAlert[] {
  const out: IAlert[] = [];
  if (settings.notifyMemory) {
    const memory = memoryAlert(trans, input, settings);
    if (memory) {
      out.push(memory);
    }
  }
  if (settings.notifyOom) {
    out.push(...oomAlerts(trans, input, settings));
  }
  if (input.sessions && settings.notifyIdle) {
    out.push(...idleAlerts(trans, input.sessions, settings));
  }
  if (input.sessions && settings.notifyLowUtilization) {
    const low = lowUtilizationAlert(trans, input.sessions);
    if (low) {
      out.push(low);
    }
  }
  return out;
}
