/**
 * The one poller of the resources endpoint; every view listens to it.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import type { IFetchFailure } from './format';
import type { IResources } from './types';

/** Path segments of the endpoint, below the server's base URL. */
export const RESOURCES_PATH = ['colab-guard', 'v1', 'resources'];

/** What the model knows at a given moment. */
export type ResourceState =
  | { readonly status: 'loading' }
  | {
      readonly status: 'ok';
      readonly data: IResources;
      /** Client clock (ms) when the answer arrived. */
      readonly receivedAt: number;
    }
  | {
      readonly status: 'error';
      readonly failure: IFetchFailure;
      /** The underlying error message, for the detail line. */
      readonly message: string;
    };

/**
 * Polls `GET {baseUrl}colab-guard/v1/resources` with a Lumino `Poll`:
 * fixed interval while it answers, exponential backoff while it fails,
 * standby while the browser tab is hidden.
 */
export class ResourceModel implements IDisposable {
  /** Start polling. */
  constructor(options: ResourceModel.IOptions = {}) {
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._poll = new Poll<void, Error>({
      auto: options.auto ?? true,
      factory: () => this._tick(),
      frequency: {
        interval: options.interval ?? ResourceModel.DEFAULT_INTERVAL,
        backoff: true,
        max: options.maxInterval ?? ResourceModel.DEFAULT_MAX_INTERVAL
      },
      name: 'colab-guard:resources',
      standby: options.standby ?? 'when-hidden'
    });
  }

  /** Emitted after every poll, with the new state. */
  get changed(): ISignal<this, ResourceState> {
    return this._changed;
  }

  /** The latest state. */
  get state(): ResourceState {
    return this._state;
  }

  /** The URL polled. */
  get url(): string {
    return URLExt.join(this._serverSettings.baseUrl, ...RESOURCES_PATH);
  }

  /** Whether the model is disposed. */
  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Poll now instead of waiting for the next tick. */
  refresh(): Promise<void> {
    return this._poll.refresh();
  }

  /** Stop polling and disconnect listeners. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    Signal.clearData(this);
  }

  /** One poll: fetch, then publish data or the failure (and rethrow to back off). */
  private async _tick(): Promise<void> {
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        this.url,
        { method: 'GET' },
        this._serverSettings
      );
    } catch (error) {
      this._fail({ kind: 'network' }, error);
    }
    if (!response.ok) {
      this._fail(
        { kind: 'http', status: response.status },
        new Error(response.statusText || `HTTP ${response.status}`)
      );
    }
    let data: IResources;
    try {
      data = (await response.json()) as IResources;
      if (!data || typeof data !== 'object' || !data.host) {
        throw new Error('the payload has no "host" entry');
      }
    } catch (error) {
      this._fail({ kind: 'payload' }, error);
    }
    this._set({ status: 'ok', data, receivedAt: Date.now() });
  }

  /** Publish a failure and reject, so that the poll backs off. */
  private _fail(failure: IFetchFailure, error: unknown): never {
    const message = error instanceof Error ? error.message : String(error);
    this._set({ status: 'error', failure, message });
    throw error instanceof Error ? error : new Error(message);
  }

  private _set(state: ResourceState): void {
    if (this.isDisposed) {
      return;
    }
    this._state = state;
    this._changed.emit(state);
  }

  private _changed = new Signal<this, ResourceState>(this);
  private _poll: Poll<void, Error>;
  private _serverSettings: ServerConnection.ISettings;
  private _state: ResourceState = { status: 'loading' };
}

/** Options and defaults of {@link ResourceModel}. */
export namespace ResourceModel {
  /** Poll interval while the server answers (ms). */
  export const DEFAULT_INTERVAL = 2000;

  /** Longest wait between tries while the server fails (ms). */
  export const DEFAULT_MAX_INTERVAL = 30000;

  /** Construction options. */
  export interface IOptions {
    /** Server connection settings; the page's by default. */
    serverSettings?: ServerConnection.ISettings;
    /** Poll interval in ms (default 2000). */
    interval?: number;
    /** Backoff ceiling in ms (default 30000). */
    maxInterval?: number;
    /** When to stand by (default 'when-hidden'). */
    standby?: Poll.Standby;
    /** Start polling at once (default true). */
    auto?: boolean;
  }
}
