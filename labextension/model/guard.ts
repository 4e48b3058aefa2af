/**
 * The one poller of the colab-guard endpoints; every view listens to it.
 *
 * Each tick asks for the resources and the sessions; every Nth tick (and
 * when a view asks for a full refresh) also for the snapshots, the
 * post-mortems and the history. An endpoint this server does not have
 * (HTTP 404, e.g. an older server) is left alone and asked again only every
 * {@link GuardModel.ABSENT_RETRY} ticks.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { DEFAULT_SETTINGS, IGuardSettings } from '../settings';
import { Endpoint, planTick } from './schedule';
import {
  appendSample,
  emptySeries,
  seriesFromHistory,
  trimSeries
} from './series';
import type { EndpointState, ResourceState } from './state';
import type {
  IHistory,
  IPostmortems,
  IResources,
  ISessions,
  ISnapshotList
} from './types';

/** Path segments of the endpoints, below the server's base URL. */
export const API_PATH = ['colab-guard', 'v1'];

/** Answer checks: what a payload must have to be used. */
const CHECKS = {
  resources: (d: any) => !!d && typeof d === 'object' && !!d.host,
  sessions: (d: any) =>
    !!d && typeof d === 'object' && Array.isArray(d.kernels),
  snapshots: (d: any) =>
    !!d && typeof d === 'object' && Array.isArray(d.snapshots),
  postmortems: (d: any) =>
    !!d && typeof d === 'object' && Array.isArray(d.kernels),
  history: (d: any) => !!d && typeof d === 'object' && Array.isArray(d.t)
};

/**
 * Polls the colab-guard endpoints with one Lumino `Poll`: a fixed interval
 * while the server answers, exponential backoff while it fails, standby while
 * the browser tab is hidden.
 */
export class GuardModel implements IDisposable {
  /** Start polling. */
  constructor(options: GuardModel.IOptions = {}) {
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._settings = { ...DEFAULT_SETTINGS, ...(options.settings ?? {}) };
    this._started = options.auto ?? true;
    this._poll = new Poll<void, Error>({
      auto: options.auto ?? true,
      factory: () => this._tick(),
      frequency: {
        interval: this._settings.pollInterval * 1000,
        backoff: true,
        max: options.maxInterval ?? GuardModel.DEFAULT_MAX_INTERVAL
      },
      name: 'colab-guard:poll',
      standby: options.standby ?? 'when-hidden'
    });
  }

  /** Emitted after every poll, and when the settings change, with the state. */
  get changed(): ISignal<this, ResourceState> {
    return this._changed;
  }

  /** The latest state. */
  get state(): ResourceState {
    return this._state;
  }

  /** The settings in force. */
  get settings(): Readonly<IGuardSettings> {
    return this._settings;
  }

  /** The URL of one endpoint. */
  urlOf(...path: string[]): string {
    return URLExt.join(this._serverSettings.baseUrl, ...API_PATH, ...path);
  }

  /** The URL of the resources endpoint. */
  get url(): string {
    return this.urlOf('resources');
  }

  /** Whether the model is disposed. */
  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Apply new settings: poll interval, history window, units (views re-render). */
  configure(settings: IGuardSettings): void {
    const interval = settings.pollInterval * 1000;
    const changedInterval = interval !== this._poll.frequency.interval;
    this._settings = { ...settings };
    if (changedInterval) {
      this._poll.frequency = { ...this._poll.frequency, interval };
    }
    this._changed.emit(this._state);
  }

  /**
   * Poll now instead of waiting for the next tick; with `all`, the next tick
   * also fetches the snapshots, post-mortems and history.
   */
  refresh(all = false): Promise<void> {
    if (all) {
      this._forceSlow = true;
    }
    // Before start() (settings still loading) the first poll is start()'s.
    return this._started ? this._poll.refresh() : Promise.resolve();
  }

  /** Start polling (for a model built with `auto: false`). */
  start(): Promise<void> {
    this._started = true;
    return this._poll.start();
  }

  /** Delete one snapshot, then refresh the list. Rejects with the server's reason. */
  async deleteSnapshot(key: string, id: string): Promise<void> {
    const url = this.urlOf(
      'snapshots',
      encodeURIComponent(key),
      encodeURIComponent(id)
    );
    const response = await ServerConnection.makeRequest(
      url,
      { method: 'DELETE' },
      this._serverSettings
    );
    if (response.status !== 204 && !response.ok) {
      let reason = response.statusText || `HTTP ${response.status}`;
      try {
        const body = await response.json();
        reason = body?.message || body?.reason || reason;
      } catch {
        // no JSON body: keep the status text
      }
      throw new Error(reason);
    }
    // Drop it from the list at once; the refresh confirms.
    const list = this._snapshots;
    if (list.status === 'ok') {
      this._snapshots = {
        ...list,
        data: {
          ...list.data,
          snapshots: list.data.snapshots.filter(
            s => !(s.key === key && s.id === id)
          )
        }
      };
      if (this._state.status === 'ok') {
        this._set({ ...this._state, snapshots: this._snapshots });
      }
    }
    await this.refresh(true);
  }

  /** Stop polling and disconnect listeners. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    // Poll.dispose() leaves its pending timer running; stopping first clears it.
    void this._poll.stop();
    this._poll.dispose();
    Signal.clearData(this);
  }

  /** One poll: fetch, then publish data or the failure (and reject to back off). */
  private async _tick(): Promise<void> {
    const absent = new Set<Endpoint>();
    for (const [name, state] of [
      ['sessions', this._sessions],
      ['snapshots', this._snapshots],
      ['postmortems', this._postmortems],
      ['history', this._historyState]
    ] as [Endpoint, EndpointState<unknown>][]) {
      if (state.status === 'absent') {
        absent.add(name);
      }
    }
    const plan = planTick({
      tick: this._ticks++,
      slowEvery: this._settings.slowPollEvery,
      forceSlow: this._forceSlow,
      historyEmpty: this._series.t.length === 0,
      absent,
      absentRetry: GuardModel.ABSENT_RETRY
    });
    this._forceSlow = false;
    // Keep what the sparklines draw and what the projection fits, whichever is longer.
    const historySeconds = Math.round(
      Math.max(
        this._settings.historyMinutes,
        this._settings.projectionMinutes
      ) * 60
    );
    const [resources, sessions, snapshots, postmortems, history] =
      await Promise.all([
        this._get<IResources>(['resources'], CHECKS.resources),
        plan.sessions
          ? this._get<ISessions>(['sessions'], CHECKS.sessions)
          : null,
        plan.snapshots
          ? this._get<ISnapshotList>(['snapshots'], CHECKS.snapshots)
          : null,
        plan.postmortems
          ? this._get<IPostmortems>(['postmortems'], CHECKS.postmortems)
          : null,
        plan.history
          ? this._get<IHistory>(['history'], CHECKS.history, {
              seconds: String(historySeconds)
            })
          : null
      ]);
    if (this.isDisposed) {
      return;
    }
    if (resources.status !== 'ok') {
      // Fetch everything again on the next try: what we hold may be stale.
      this._forceSlow = true;
      const failure =
        resources.status === 'error'
          ? resources
          : {
              failure: { kind: 'http' as const, status: 404 },
              message: 'Not Found'
            };
      this._set({
        status: 'error',
        failure: failure.failure,
        message: failure.message
      });
      throw new Error(failure.message);
    }
    this._sessions = sessions ?? this._sessions;
    this._snapshots = snapshots ?? this._snapshots;
    this._postmortems = postmortems ?? this._postmortems;
    if (history) {
      this._historyState = history;
      if (history.status === 'ok') {
        this._series = seriesFromHistory(history.data);
      }
    }
    this._series = appendSample(
      trimSeries(this._series, historySeconds),
      resources.data,
      historySeconds
    );
    this._set({
      status: 'ok',
      data: resources.data,
      receivedAt: resources.receivedAt,
      sessions: this._sessions,
      snapshots: this._snapshots,
      postmortems: this._postmortems,
      history: this._series
    });
  }

  /** GET one endpoint; never rejects: failures become an error or absent state. */
  private async _get<T>(
    path: string[],
    check: (data: unknown) => boolean,
    query: { [key: string]: string } = {}
  ): Promise<EndpointState<T>> {
    let url = this.urlOf(...path);
    const search = new URLSearchParams(query).toString();
    if (search) {
      url += `?${search}`;
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        url,
        { method: 'GET' },
        this._serverSettings
      );
    } catch (error) {
      return {
        status: 'error',
        failure: { kind: 'network' },
        message: messageOf(error)
      };
    }
    if (response.status === 404 && path[0] !== 'resources') {
      return { status: 'absent' };
    }
    if (!response.ok) {
      return {
        status: 'error',
        failure: { kind: 'http', status: response.status },
        message: response.statusText || `HTTP ${response.status}`
      };
    }
    try {
      const data = await response.json();
      if (!check(data)) {
        throw new Error(`unexpected answer from ${path.join('/')}`);
      }
      return { status: 'ok', data: data as T, receivedAt: Date.now() };
    } catch (error) {
      return {
        status: 'error',
        failure: { kind: 'payload' },
        message: messageOf(error)
      };
    }
  }

  private _set(state: ResourceState): void {
    if (this.isDisposed) {
      return;
    }
    this._state = state;
    this._changed.emit(state);
  }

  private _changed = new Signal<this, ResourceState>(this);
  private _forceSlow = false;
  private _historyState: EndpointState<IHistory> = { status: 'loading' };
  private _poll: Poll<void, Error>;
  private _postmortems: EndpointState<IPostmortems> = { status: 'loading' };
  private _series: IHistory = emptySeries();
  private _serverSettings: ServerConnection.ISettings;
  private _sessions: EndpointState<ISessions> = { status: 'loading' };
  private _settings: IGuardSettings;
  private _snapshots: EndpointState<ISnapshotList> = { status: 'loading' };
  private _started: boolean;
  private _state: ResourceState = { status: 'loading' };
  private _ticks = 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Options and defaults of {@link GuardModel}. */
export namespace GuardModel {
  /** Longest wait between tries while the server fails (ms). */
  export const DEFAULT_MAX_INTERVAL = 30000;

  /** An endpoint that answered 404 is asked again every this many ticks. */
  export const ABSENT_RETRY = 30;

  /** Construction options. */
  export interface IOptions {
    /** Server connection settings; the page's by default. */
    serverSettings?: ServerConnection.ISettings;
    /** Initial settings (defaults for what is missing). */
    settings?: Partial<IGuardSettings>;
    /** Backoff ceiling in ms (default 30000). */
    maxInterval?: number;
    /** When to stand by (default 'when-hidden'). */
    standby?: Poll.Standby;
    /** Start polling at once (default true). */
    auto?: boolean;
  }
}
