/**
 * Which endpoints one poll asks for. Pure, unit-tested in
 * `__tests__/schedule.spec.ts`.
 */

/** The endpoints besides the resources (asked on every poll). */
export type Endpoint = 'sessions' | 'snapshots' | 'postmortems' | 'history';

/** What the plan depends on. */
export interface ITickInput {
  /** Number of this poll, from 0. */
  tick: number;
  /** Slow endpoints (snapshots, post-mortems, history) every this many polls. */
  slowEvery: number;
  /** Ask for everything on this poll (the panel was shown, a snapshot deleted, after an error). */
  forceSlow?: boolean;
  /** No history yet: ask for it now rather than at the next slow poll. */
  historyEmpty?: boolean;
  /** Endpoints that answered 404 (not on this server). */
  absent?: ReadonlySet<Endpoint>;
  /** A 404 endpoint is asked again every this many polls (default 30). */
  absentRetry?: number;
}

/** Whether each endpoint is asked for on this poll. */
export type TickPlan = { [endpoint in Endpoint]: boolean };

/**
 * Plan one poll: the sessions on every poll (countdowns), the snapshots,
 * post-mortems and history on every `slowEvery`-th one; an endpoint that
 * answered 404 only every `absentRetry` polls.
 */
export function planTick(input: ITickInput): TickPlan {
  const every = Math.max(1, Math.floor(input.slowEvery));
  const retry = Math.max(1, Math.floor(input.absentRetry ?? 30));
  const slow = !!input.forceSlow || input.tick % every === 0;
  const want = (endpoint: Endpoint, now: boolean) =>
    now && (!input.absent?.has(endpoint) || input.tick % retry === 0);
  return {
    sessions: want('sessions', true),
    snapshots: want('snapshots', slow),
    postmortems: want('postmortems', slow),
    history: want('history', slow || !!input.historyEmpty)
  };
}
