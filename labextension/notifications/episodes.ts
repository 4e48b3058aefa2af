/**
 * Fire a notification once per episode, not on every poll.
 *
 * An episode of a condition (keyed by a string, e.g. "memory" or
 * "idle:<kernel id>") starts on the first update that reports it and ends once
 * it has been absent for `clearAfter` consecutive updates; only a new episode
 * fires again. Pure logic, unit-tested in `__tests__/episodes.spec.ts`.
 */

/** Options of {@link EpisodeTracker}. */
export interface IEpisodeOptions {
  /**
   * Consecutive updates without a condition before its episode ends
   * (default 1: the first update where it is clear). A higher value keeps a
   * condition that flickers around its threshold from firing again and again.
   */
  clearAfter?: number;
}

/** Tracks which conditions are in an episode. */
export class EpisodeTracker {
  /** A tracker with no episode. */
  constructor(options: IEpisodeOptions = {}) {
    this._clearAfter = Math.max(1, Math.floor(options.clearAfter ?? 1));
  }

  /**
   * Report the conditions that hold now; every other key is clear.
   * Returns the keys whose episode starts with this update, in the order
   * given (each key at most once).
   */
  update(active: Iterable<string>): string[] {
    const now = new Set(active);
    const started: string[] = [];
    for (const key of now) {
      if (!this._episodes.has(key)) {
        started.push(key);
      }
      this._episodes.set(key, 0);
    }
    for (const [key, clear] of Array.from(this._episodes)) {
      if (now.has(key)) {
        continue;
      }
      if (clear + 1 >= this._clearAfter) {
        this._episodes.delete(key);
      } else {
        this._episodes.set(key, clear + 1);
      }
    }
    return started;
  }

  /** Whether the key is in an episode. */
  isActive(key: string): boolean {
    return this._episodes.has(key);
  }

  /** The keys in an episode. */
  get active(): string[] {
    return Array.from(this._episodes.keys());
  }

  /** End every episode (e.g. when the notifications are turned off). */
  reset(): void {
    this._episodes.clear();
  }

  private _clearAfter: number;
  /** key -> consecutive clear updates so far. */
  private _episodes = new Map<string, number>();
}
