/**
 * The domain types of the front end: what the model knows about the server
 * at a given moment, and how alarming a figure is. Pure, no DOM, no network.
 */
import type {
  IHistory,
  IPostmortems,
  IResources,
  ISessions,
  ISnapshotList
} from './types';

/** Why a poll failed. */
export interface IFetchFailure {
  /** "network": no answer; "http": an error status; "payload": bad JSON. */
  kind: 'network' | 'http' | 'payload';
  /** The HTTP status, for kind "http". */
  status?: number;
}

/** What the model knows about one endpoint. */
export type EndpointState<T> =
  | { readonly status: 'loading' }
  | {
      readonly status: 'ok';
      readonly data: T;
      /** Client clock (ms) when the answer arrived. */
      readonly receivedAt: number;
    }
  /** The server has no such endpoint (HTTP 404): the panel leaves its section out. */
  | { readonly status: 'absent' }
  | {
      readonly status: 'error';
      readonly failure: IFetchFailure;
      readonly message: string;
    };

/** The state of a model whose resources endpoint answered. */
export interface IOkState {
  readonly status: 'ok';
  readonly data: IResources;
  /** Client clock (ms) when the answer arrived. */
  readonly receivedAt: number;
  readonly sessions?: EndpointState<ISessions>;
  readonly snapshots?: EndpointState<ISnapshotList>;
  readonly postmortems?: EndpointState<IPostmortems>;
  /** Recent samples: the history endpoint's, extended with every poll. */
  readonly history?: IHistory;
}

/** The state of a model whose resources endpoint failed. */
export interface IErrorState {
  readonly status: 'error';
  readonly failure: IFetchFailure;
  /** The underlying error message, for the detail line. */
  readonly message: string;
}

/**
 * What the model knows at a given moment. The resources endpoint decides the
 * whole state: while it fails, nothing else is shown (no stale numbers).
 */
export type ResourceState =
  { readonly status: 'loading' } | IOkState | IErrorState;

/** How alarming a figure is: its colour (amber for warn, red for critical). */
export type Level = 'ok' | 'warn' | 'critical';

/** Percent of a limit from which a bar turns amber. */
export const USAGE_WARN_PERCENT = 80;
/** Percent of a limit from which a bar turns red. */
export const USAGE_CRITICAL_PERCENT = 90;

/** Map a percentage to a level: amber from 80 %, red from 90 %. */
export function usageLevel(percent: number | null | undefined): Level {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) {
    return 'ok';
  }
  if (percent >= USAGE_CRITICAL_PERCENT) {
    return 'critical';
  }
  if (percent >= USAGE_WARN_PERCENT) {
    return 'warn';
  }
  return 'ok';
}

/** Seconds under which a countdown turns amber. */
export const COUNTDOWN_WARN_SECONDS = 10 * 60;
/** Seconds under which a countdown turns red. */
export const COUNTDOWN_CRITICAL_SECONDS = 2 * 60;

/**
 * Colour of a countdown: amber under 10 minutes, red under 2. A fraction of a
 * second rounds up, as the mm:ss text does, so "10:00" is never amber.
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

const RANK: { [level in Level]: number } = { ok: 0, warn: 1, critical: 2 };

/** The most alarming of some levels ("ok" for none). */
export function worstLevel(...levels: Level[]): Level {
  return levels.reduce<Level>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok');
}
