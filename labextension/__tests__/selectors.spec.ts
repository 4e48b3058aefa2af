import { describe, expect, it } from '@jest/globals';

import {
  postmortemsToShow,
  remaining,
  selectCost,
  selectGpus,
  selectIndicator,
  selectKernels,
  selectMemory,
  selectServerCountdowns,
  snapshotGroups
} from '../model/selectors';
import { emptySeries, appendSample } from '../model/series';
import type { IOkState } from '../model/state';
import { GiB, gpu, oom, resources, sessions, snapshot, T0 } from './fixtures';

const NOW = T0 * 1000;

function ok(extra: Partial<IOkState> = {}): IOkState {
  return { status: 'ok', data: resources(), receivedAt: NOW, ...extra };
}

describe('selectors', () => {
  it('runs a countdown down by the time since its answer, never below zero', () => {
    expect(remaining(600, NOW - 15000, NOW)).toBe(585);
    expect(remaining(10, NOW - 15000, NOW)).toBe(0);
    expect(remaining(null, NOW, NOW)).toBeNull();
    // a clock behind the answer does not add time
    expect(remaining(600, NOW + 5000, NOW)).toBe(600);
  });

  it('pairs each GPU with its column of the history', () => {
    let history = emptySeries();
    history = appendSample(
      history,
      resources(GiB, {
        accelerators: [
          gpu(0, { utilization_gpu: 5 }),
          gpu(1, { utilization_gpu: 7 })
        ]
      }),
      600
    );
    const views = selectGpus(
      resources(GiB, {
        accelerators: [
          { kind: 'tpu', accelerator_type: null, devices: [], libtpu: false },
          gpu(0),
          gpu(1)
        ]
      }),
      history
    );
    expect(views.map(v => [v.gpu.index, v.utilization])).toEqual([
      [0, [5]],
      [1, [7]]
    ]);
  });

  it('says the memory figures and whether they can be projected', () => {
    const memory = selectMemory(ok({ data: resources(11 * GiB) }), {
      projectionMinutes: 5
    });
    expect(memory.percent).toBeCloseTo(91.67, 1);
    expect(memory.level).toBe('critical');
    expect(memory.source).toBe('cgroup-v2');
    expect(memory.projection).toBeUndefined();
  });

  it('gives each kernel its countdown, colour and the policy behind it', () => {
    const s = sessions([
      { seconds_to_cull: 700 },
      { seconds_to_cull: null, cull_reason: null }
    ]);
    const [counting, spared] = selectKernels(s, NOW - 200_000, NOW);
    expect(counting.seconds).toBe(500);
    expect(counting.level).toBe('warn');
    expect(counting.policy?.name).toBe('cull_idle_timeout');
    expect(counting.spared).toBeNull();
    expect(spared.seconds).toBeNull();
    expect(spared.spared).toEqual({ kind: 'unknown' });
    const notCulled = selectKernels(
      sessions([{ seconds_to_cull: null }], { policy: {} }),
      NOW,
      NOW
    );
    expect(notCulled[0].spared).toEqual({ kind: 'not-culled', source: null });
  });

  it("lists the server's running countdowns in order", () => {
    const s = sessions([], {
      server: {
        started: null,
        last_activity: null,
        seconds_to_shutdown: 50,
        lifetime_ends_at: null,
        seconds_to_lifetime_end: 4000,
        seconds_to_idle_disconnect: null
      }
    });
    expect(
      selectServerCountdowns(s, NOW, NOW).map(c => [c.key, c.seconds, c.level])
    ).toEqual([
      ['shutdown', 50, 'critical'],
      ['lifetime', 4000, 'ok']
    ]);
  });

  it('says the share of the cost spent at low utilisation', () => {
    expect(selectCost(sessions())).toBeNull();
    const cost = selectCost(
      sessions([], {
        cost: {
          rate: 1,
          unit: 'USD',
          pattern: '*',
          accrued: 0,
          accrued_low_utilization: 0,
          hours: 0
        }
      })
    );
    expect(cost?.lowShare).toBeNull();
  });

  it('groups snapshots per notebook in the order given', () => {
    const groups = snapshotGroups([
      snapshot('b', '2'),
      snapshot('a', '1'),
      snapshot('b', '0', { notebook: null })
    ]);
    expect(groups.map(g => [g.key, g.notebook, g.snapshots.length])).toEqual([
      ['b', 'work/b.ipynb', 2],
      ['a', 'work/a.ipynb', 1]
    ]);
  });

  it('shows the newest post-mortems first, leaves out dismissed ones, at most three', () => {
    const pms = [1, 2, 3, 4].map(i =>
      oom({ kernel_id: `k${i}`, died_at: T0 - i * 10 })
    );
    const shown = postmortemsToShow(
      { kernels: pms, previous_session: [] },
      new Set([`k1@${T0 - 10}`])
    );
    expect(shown.map(p => p.kernel_id)).toEqual(['k2', 'k3', 'k4']);
  });
});

describe('selectIndicator', () => {
  it('follows the state before an answer and when the server fails', () => {
    expect(selectIndicator({ status: 'loading' }, NOW)).toEqual({
      status: 'loading'
    });
    expect(
      selectIndicator(
        { status: 'error', failure: { kind: 'network' }, message: 'x' },
        NOW
      )
    ).toEqual({ status: 'error' });
  });

  it('takes the nearest countdown, run down, and the worst colour', () => {
    const view = selectIndicator(
      ok({
        data: resources(9.8 * GiB, { accelerators: [gpu(0)] }),
        sessions: {
          status: 'ok',
          data: sessions([{ seconds_to_cull: 900 }, { seconds_to_cull: 700 }]),
          receivedAt: NOW - 10_000
        }
      }),
      NOW
    );
    expect(view.status).toBe('ok');
    if (view.status === 'ok') {
      expect(view.memoryLevel).toBe('warn');
      expect(view.countdown).toEqual({
        seconds: 690,
        reason: 'idle-culling',
        level: 'ok'
      });
      expect(view.level).toBe('warn');
      expect(view.accelerators).toHaveLength(1);
    }
  });

  it('turns red for a countdown under two minutes', () => {
    const view = selectIndicator(
      ok({
        sessions: {
          status: 'ok',
          data: sessions([{ seconds_to_cull: 100 }]),
          receivedAt: NOW
        }
      }),
      NOW
    );
    expect(view.status === 'ok' && view.level).toBe('critical');
    const none = selectIndicator(ok({ sessions: { status: 'absent' } }), NOW);
    expect(none.status === 'ok' && none.countdown).toBeNull();
  });
});
