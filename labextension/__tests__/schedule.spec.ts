import { describe, expect, it } from '@jest/globals';

import { Endpoint, planTick } from '../model/schedule';

/** Which endpoints the first `n` polls ask for, by name. */
function counts(
  n: number,
  input: Partial<Parameters<typeof planTick>[0]> = {}
) {
  const out: { [name: string]: number } = {
    sessions: 0,
    snapshots: 0,
    postmortems: 0,
    history: 0
  };
  for (let tick = 0; tick < n; tick++) {
    const plan = planTick({ tick, slowEvery: 5, ...input });
    for (const [name, wanted] of Object.entries(plan)) {
      out[name] += wanted ? 1 : 0;
    }
  }
  return out;
}

describe('planTick', () => {
  it('asks for the sessions every poll and the slow endpoints every 5th', () => {
    expect(counts(20)).toEqual({
      sessions: 20,
      snapshots: 4,
      postmortems: 4,
      history: 4
    });
    expect(planTick({ tick: 0, slowEvery: 5 })).toEqual({
      sessions: true,
      snapshots: true,
      postmortems: true,
      history: true
    });
    expect(planTick({ tick: 1, slowEvery: 5 }).snapshots).toBe(false);
  });

  it('asks for everything when forced, and for history while there is none', () => {
    expect(
      planTick({ tick: 3, slowEvery: 5, forceSlow: true }).postmortems
    ).toBe(true);
    expect(planTick({ tick: 3, slowEvery: 5, historyEmpty: true })).toEqual({
      sessions: true,
      snapshots: false,
      postmortems: false,
      history: true
    });
  });

  it('asks a 404 endpoint again only every absentRetry polls', () => {
    const absent = new Set<Endpoint>(['sessions', 'history']);
    const c = counts(60, { absent, absentRetry: 30 });
    expect(c.sessions).toBe(2);
    expect(c.history).toBe(2);
    expect(c.snapshots).toBe(12);
  });
});
