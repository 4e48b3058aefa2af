import { describe, expect, it } from '@jest/globals';

import { EpisodeTracker } from '../notifications/episodes';

describe('EpisodeTracker', () => {
  it('fires once when a condition starts, not on every poll while it lasts', () => {
    // Given a tracker
    const tracker = new EpisodeTracker();

    // When memory is high on three polls in a row
    // Then only the first poll starts an episode
    expect(tracker.update(['memory'])).toEqual(['memory']);
    expect(tracker.update(['memory'])).toEqual([]);
    expect(tracker.update(['memory'])).toEqual([]);
    expect(tracker.isActive('memory')).toBe(true);
  });

  it('fires again once the condition has cleared and comes back', () => {
    const tracker = new EpisodeTracker();
    tracker.update(['memory']);

    // When it clears, then returns
    expect(tracker.update([])).toEqual([]);
    expect(tracker.isActive('memory')).toBe(false);
    expect(tracker.update(['memory'])).toEqual(['memory']);
  });

  it('keeps conditions apart', () => {
    const tracker = new EpisodeTracker();
    expect(tracker.update(['idle:a'])).toEqual(['idle:a']);
    expect(tracker.update(['idle:a', 'idle:b'])).toEqual(['idle:b']);
    expect(tracker.update(['idle:b'])).toEqual([]);
    expect(tracker.update(['idle:a', 'idle:b'])).toEqual(['idle:a']);
    expect(tracker.active.sort()).toEqual(['idle:a', 'idle:b']);
  });

  it('with clearAfter, a one-poll dip does not end the episode', () => {
    // Given an episode that must be clear on 2 polls to end
    const tracker = new EpisodeTracker({ clearAfter: 2 });
    expect(tracker.update(['memory'])).toEqual(['memory']);

    // When the value dips under the threshold for one poll only
    expect(tracker.update([])).toEqual([]);
    // Then it is the same episode
    expect(tracker.update(['memory'])).toEqual([]);

    // When it stays clear for two polls, the next rise is a new episode
    tracker.update([]);
    tracker.update([]);
    expect(tracker.isActive('memory')).toBe(false);
    expect(tracker.update(['memory'])).toEqual(['memory']);
  });

  it('reports a key once even when given twice, and resets', () => {
    const tracker = new EpisodeTracker();
    expect(tracker.update(['oom:k1', 'oom:k1'])).toEqual(['oom:k1']);
    tracker.reset();
    expect(tracker.active).toEqual([]);
    expect(tracker.update(['oom:k1'])).toEqual(['oom:k1']);
  });
});
