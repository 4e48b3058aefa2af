/**
 * Selectors: the facts the views show, derived from the model's state. Pure
 * functions of the payloads, the settings and the client clock; no words (the
 * views translate), no DOM. Unit-tested in `__tests__/selectors.spec.ts`.
 */
import type { IGuardSettings } from '../settings';
import { IProjection, projectTimeToLimit } from './projection';
import {
  countdownLevel,
  EndpointState,
  IOkState,
  Level,
  ResourceState,
  usageLevel,
  worstLevel
} from './state';
import type {
  Accelerator,
  ICellMemory,
  ICost,
  IGpu,
  IHistory,
  IPolicyItem,
  IPostmortem,
  IPostmortems,
  IResources,
  ISessionKernel,
  ISessions,
  ISessionWarning,
  ISnapshot,
  ITpu
} from './types';

/** The data of an endpoint that answered, or null. */
export function dataOf<T>(state: EndpointState<T> | undefined): T | null {
  return state?.status === 'ok' ? state.data : null;
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

/**
 * The share of `used` in `total` as a percentage, or null when the total is
 * unknown or zero. Not clamped: a working set above its limit reads > 100.
 */
export function percentOf(
  used: number | null | undefined,
  total: number | null | undefined
): number | null {
  const count = (v: number | null | undefined): v is number =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (!count(used) || !count(total) || total === 0) {
    return null;
  }
  return (used / total) * 100;
}

/** Seconds left on a countdown, run down by the time since its answer. */
export function remaining(
  seconds: number | null | undefined,
  receivedAt: number,
  now: number
): number | null {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    return null;
  }
  return Math.max(0, seconds - Math.max(0, now - receivedAt) / 1000);
}

/** One GPU and its utilisation history. */
export interface IGpuView {
  gpu: IGpu;
  /** Its utilisation samples, parallel to the history's `t` (undefined without history). */
  utilization?: (number | null)[];
}

/** The GPUs, each with its column of the history (the history lists GPUs in order). */
export function selectGpus(data: IResources, history?: IHistory): IGpuView[] {
  const gpus = (data.accelerators ?? []).filter(
    (a): a is IGpu => a.kind === 'gpu'
  );
  return gpus.map((gpu, position) => ({
    gpu,
    utilization: history?.gpu_utilization[position]
  }));
}

/** The TPUs. */
export function selectTpus(data: IResources): ITpu[] {
  return (data.accelerators ?? []).filter((a): a is ITpu => a.kind === 'tpu');
}

/** The working set against the limit that applies, and where it is heading. */
export interface IMemoryView {
  workingSet: number;
  limit: number;
  /** Host RAM. */
  total: number;
  /** Where the limit was read from ("cgroup-v2", "env", ...). */
  source: string;
  percent: number | null;
  level: Level;
  /** Working set samples, parallel to the history's `t`. */
  history?: (number | null)[];
  /**
   * The straight-line projection to the limit: null when memory is not
   * climbing steadily, undefined with too few samples to say.
   */
  projection?: IProjection | null;
}

/** The memory figures of an answered state. */
export function selectMemory(
  state: IOkState,
  settings: Pick<IGuardSettings, 'projectionMinutes'>
): IMemoryView {
  const memory = state.data.host.memory;
  const history = state.history;
  const percent = percentOf(memory.working_set, memory.limit);
  return {
    workingSet: memory.working_set,
    limit: memory.limit,
    total: memory.total,
    source: memory.limit_source,
    percent,
    level: usageLevel(percent),
    history: history?.memory_working_set,
    projection:
      history && history.t.length >= 2
        ? projectTimeToLimit(
            history.t,
            history.memory_working_set,
            memory.limit,
            { windowSeconds: settings.projectionMinutes * 60 }
          )
        : undefined
  };
}

/** The policy setting that governs a countdown's reason, or null. */
export function governingPolicy(reason: string | null): string | null {
  switch (reason) {
    case 'idle-culling':
      return 'cull_idle_timeout';
    case 'idle-timeout':
      return 'idle_timeout';
    case 'max-lifetime':
      return 'max_lifetime';
    default:
      return null;
  }
}

/** Why a kernel has no countdown. */
export type Spared =
  /** Idle kernels are not culled at all (`source`: the setting, when the server names it). */
  | { kind: 'not-culled'; source: string | null }
  /** Not culled while a tab is connected (`source`: the setting that is off). */
  | { kind: 'connected'; source: string }
  /** Not culled while busy. */
  | { kind: 'busy'; source: string }
  | { kind: 'unknown' };

/** Why a kernel without a countdown is spared, by the policy. */
export function sparedBy(
  kernel: ISessionKernel,
  policy: ISessions['policy']
): Spared {
  const timeout = policy?.cull_idle_timeout;
  if (!timeout || timeout.value === null) {
    return { kind: 'not-culled', source: timeout?.source ?? null };
  }
  if (kernel.connections > 0 && policy.cull_connected?.value === false) {
    return { kind: 'connected', source: policy.cull_connected.source };
  }
  if (kernel.execution_state === 'busy' && policy.cull_busy?.value === false) {
    return { kind: 'busy', source: policy.cull_busy.source };
  }
  return { kind: 'unknown' };
}

/** One kernel with its countdown run down to now. */
export interface IKernelView {
  kernel: ISessionKernel;
  /** Seconds until it is ended, or null when nothing ends it. */
  seconds: number | null;
  level: Level;
  /** The policy setting behind the countdown, with its value and source. */
  policy: { name: string; item: IPolicyItem } | null;
  /** Why it has no countdown (null when it has one). */
  spared: Spared | null;
  /** Among several kernels, the one the OOM killer would end first. */
  oomFirst: boolean;
}

/** The kernels of a sessions answer, countdowns run down to `now`. */
export function selectKernels(
  sessions: ISessions,
  receivedAt: number,
  now: number
): IKernelView[] {
  const kernels = sessions.kernels ?? [];
  const scores = kernels.map(k => k.oom_score ?? -1);
  const top = Math.max(-1, ...scores);
  // only a single highest score names a kernel: ties say nothing
  const first =
    kernels.length > 1 && top > 0 && scores.filter(s => s === top).length === 1
      ? scores.indexOf(top)
      : -1;
  return kernels.map((kernel, i) => {
    const seconds = remaining(kernel.seconds_to_cull, receivedAt, now);
    const name = governingPolicy(kernel.cull_reason);
    const item = name ? sessions.policy?.[name] : undefined;
    return {
      kernel,
      seconds,
      level: countdownLevel(seconds),
      policy: name && item ? { name, item } : null,
      spared: seconds === null ? sparedBy(kernel, sessions.policy) : null,
      oomFirst: i === first
    };
  });
}

/** Which of the server's own countdowns. */
export type ServerCountdownKey = 'shutdown' | 'idle' | 'lifetime';

/** One of the server's own countdowns, run down to now. */
export interface IServerCountdown {
  key: ServerCountdownKey;
  seconds: number;
  level: Level;
  /** The policy setting behind it, when the server lists it. */
  policy: { name: string; item: IPolicyItem } | null;
  /** Counted on the hub's clock (its idle culler), not this server's. */
  hub: boolean;
}

/** The server's countdowns that run (shutdown, idle disconnect, lifetime), in that order. */
export function selectServerCountdowns(
  sessions: ISessions,
  receivedAt: number,
  now: number
): IServerCountdown[] {
  const server = sessions.server ?? ({} as ISessions['server']);
  const out: IServerCountdown[] = [];
  const add = (
    key: ServerCountdownKey,
    value: number | null | undefined,
    name: string
  ) => {
    const seconds = remaining(value, receivedAt, now);
    if (seconds === null) {
      return;
    }
    const item = sessions.policy?.[name];
    out.push({
      key,
      seconds,
      level: countdownLevel(seconds),
      policy: item ? { name, item } : null,
      hub: key === 'idle' && !!server.hub?.answered
    });
  };
  add('shutdown', server.seconds_to_shutdown, 'shutdown_no_activity_timeout');
  add('idle', server.seconds_to_idle_disconnect, 'idle_timeout');
  add('lifetime', server.seconds_to_lifetime_end, 'max_lifetime');
  return out;
}

/** What the session cost, with the share spent at low utilisation. */
export interface ICostView {
  cost: ICost;
  /** Percent of the cost spent at low utilisation (null when nothing was spent). */
  lowShare: number | null;
}

/** The cost, where a rate is configured. */
export function selectCost(sessions: ISessions): ICostView | null {
  const cost = sessions.cost;
  if (!cost) {
    return null;
  }
  return {
    cost,
    lowShare:
      cost.accrued > 0
        ? (cost.accrued_low_utilization / cost.accrued) * 100
        : null
  };
}

/**
 * The server's advice, without its "memory-growth" warning: the memory
 * section's trend line projects the same from the same samples, and two
 * projections that differ would only confuse.
 */
export function selectAdvice(sessions: ISessions): ISessionWarning[] {
  return (sessions.warnings ?? []).filter(w => w.kind !== 'memory-growth');
}

/** The snapshots of one notebook. */
export interface ISnapshotGroup {
  /** The notebook's folder under the snapshot dir. */
  key: string;
  /** Its path, when known (else the key). */
  notebook: string;
  snapshots: ISnapshot[];
}

/** Snapshots grouped per notebook, in the server's order (newest first). */
export function snapshotGroups(snapshots: ISnapshot[]): ISnapshotGroup[] {
  const groups = new Map<string, ISnapshotGroup>();
  for (const snapshot of snapshots) {
    let group = groups.get(snapshot.key);
    if (!group) {
      group = {
        key: snapshot.key,
        notebook: snapshot.notebook ?? snapshot.key,
        snapshots: []
      };
      groups.set(snapshot.key, group);
    }
    group.snapshots.push(snapshot);
  }
  return Array.from(groups.values());
}

/** The key of a post-mortem: the same death keeps the same key across polls. */
export function postmortemKey(pm: IPostmortem): string {
  return `${pm.kernel_id ?? pm.notebook ?? 'kernel'}@${pm.died_at ?? ''}`;
}

/** The post-mortems to show as banners: newest first, not dismissed, at most `most`. */
export function postmortemsToShow(
  postmortems: IPostmortems | null | undefined,
  dismissed: ReadonlySet<string> = new Set(),
  most = 3
): IPostmortem[] {
  if (!postmortems) {
    return [];
  }
  const all = [
    ...(postmortems.kernels ?? []),
    ...(postmortems.previous_session ?? [])
  ];
  return all
    .filter(pm => !dismissed.has(postmortemKey(pm)))
    .sort(
      (a, b) =>
        (toEpochSeconds(b.died_at) ?? 0) - (toEpochSeconds(a.died_at) ?? 0)
    )
    .slice(0, most);
}

/** A countdown to show in a compact summary. */
export interface ICountdown {
  seconds: number;
  /**
   * What ends: a kernel's cull reason ("idle-culling", "idle-timeout",
   * "max-lifetime") or the server's "shutdown".
   */
  reason: string | null;
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
 * The countdown a compact summary shows: the smallest `seconds_to_cull` of the
 * kernels; without any, the server's own (shutdown, idle disconnect,
 * lifetime); null when nothing is scheduled.
 */
export function nearestCountdown(
  sessions: ICountdownSource | null | undefined
): ICountdown | null {
  if (!sessions) {
    return null;
  }
  const valid = (s: number | null | undefined): s is number =>
    typeof s === 'number' && Number.isFinite(s);
  let best: ICountdown | null = null;
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

/** What the compact indicators (status bar, Notebook 7's top bar) show. */
export type IndicatorView =
  | { status: 'loading' }
  | { status: 'error' }
  | {
      status: 'ok';
      accelerators: Accelerator[];
      workingSet: number;
      limit: number;
      memoryPercent: number | null;
      /** The memory bar's colour in the panel. */
      memoryLevel: Level;
      /** The nearest countdown, run down to now, with its colour. */
      countdown: (ICountdown & { level: Level }) | null;
      /** The most alarming of the two. */
      level: Level;
    };

/** The compact summary of a state at client time `now` (ms). */
export function selectIndicator(
  state: ResourceState,
  now: number
): IndicatorView {
  if (state.status !== 'ok') {
    return { status: state.status };
  }
  const memory = state.data.host.memory;
  const memoryPercent = percentOf(memory.working_set, memory.limit);
  const memoryLevel = usageLevel(memoryPercent);
  const sessions = state.sessions;
  const nearest =
    sessions?.status === 'ok' ? nearestCountdown(sessions.data) : null;
  const seconds =
    nearest && sessions?.status === 'ok'
      ? remaining(nearest.seconds, sessions.receivedAt, now)
      : null;
  const countdown =
    nearest && seconds !== null
      ? { ...nearest, seconds, level: countdownLevel(seconds) }
      : null;
  return {
    status: 'ok',
    accelerators: state.data.accelerators ?? [],
    workingSet: memory.working_set,
    limit: memory.limit,
    memoryPercent,
    memoryLevel,
    countdown,
    level: worstLevel(memoryLevel, countdown?.level ?? 'ok')
  };
}

/** The cell that grew this kernel's memory most among its last ones, if any grew it. */
export function selectTopCell(
  cells: ICellMemory[] | null | undefined
): ICellMemory | null {
  let best: ICellMemory | null = null;
  for (const cell of cells ?? []) {
    if (
      (cell.rss_growth ?? 0) > 0 &&
      (cell.rss_growth ?? 0) > (best?.rss_growth ?? 0)
    ) {
      best = cell;
    }
  }
  return best;
}
