import { describe, expect, it } from '@jest/globals';

import {
  appendSample,
  emptySeries,
  seriesFromHistory,
  sparklinePath,
  trimSeries,
  valueRange
} from '../model/series';
import type { IHistory, IResources } from '../model/types';

const GiB = 1024 ** 3;

function resources(
  timestamp: number,
  workingSet: number,
  gpus: [number, number][] = []
): IResources {
  return {
    timestamp,
    sample_interval: 1,
    environment: { kind: 'local', user: null },
    host: {
      memory: {
        total: 16 * GiB,
        used: 0,
        available: 0,
        limit: 12 * GiB,
        limit_source: 'host',
        working_set: workingSet,
        percent: 0
      },
      cpu: { percent: 0, count: 2, quota: null },
      disk: {}
    },
    accelerators: gpus.map(([util, used], index) => ({
      kind: 'gpu' as const,
      index,
      name: 'Tesla T4',
      memory_total: 15 * GiB,
      memory_used: used,
      utilization_gpu: util,
      utilization_memory: null,
      temperature_c: null,
      power_draw_w: null,
      power_limit_w: null
    })),
    accelerator_status: 'ok',
    accelerator_error: null,
    notes: []
  };
}

describe('series', () => {
  it('appends newer samples, with one column per GPU', () => {
    let s = emptySeries();
    s = appendSample(s, resources(100, 1 * GiB, [[10, GiB]]), 600);
    s = appendSample(s, resources(101, 2 * GiB, [[20, 2 * GiB]]), 600);
    expect(s.t).toEqual([100, 101]);
    expect(s.memory_working_set).toEqual([GiB, 2 * GiB]);
    expect(s.memory_limit).toBe(12 * GiB);
    expect(s.gpu_utilization).toEqual([[10, 20]]);
    expect(s.gpu_memory_used).toEqual([[GiB, 2 * GiB]]);
  });

  it('ignores a sample it already has (the server answers from its latest sample)', () => {
    const s = appendSample(emptySeries(), resources(100, GiB), 600);
    expect(appendSample(s, resources(100, GiB), 600).t).toEqual([100]);
    expect(appendSample(s, resources(99, GiB), 600).t).toEqual([100]);
  });

  it('drops samples older than the window', () => {
    let s = emptySeries();
    for (let t = 0; t <= 100; t += 10) {
      s = appendSample(s, resources(t, t), 30);
    }
    expect(s.t).toEqual([70, 80, 90, 100]);
    expect(s.memory_working_set).toEqual([70, 80, 90, 100]);
    expect(trimSeries(s, 10).t).toEqual([90, 100]);
  });

  it('extends the history endpoint answer, padding a GPU that appears late', () => {
    const history: IHistory = {
      interval: 1,
      t: [10, 11],
      memory_working_set: [GiB, null],
      memory_limit: 12 * GiB,
      gpu_utilization: [],
      gpu_memory_used: []
    };
    const s = appendSample(
      seriesFromHistory(history),
      resources(12, 3 * GiB, [[50, GiB]]),
      600
    );
    expect(s.memory_working_set).toEqual([GiB, null, 3 * GiB]);
    expect(s.gpu_utilization).toEqual([[null, null, 50]]);
  });

  it('evens out ragged columns from the server', () => {
    const s = seriesFromHistory({
      interval: 1,
      t: [1, 2, 3],
      memory_working_set: [1],
      memory_limit: null,
      gpu_utilization: [[1, 2, 3, 4]],
      gpu_memory_used: [[]]
    });
    expect(s.memory_working_set).toEqual([1, null, null]);
    expect(s.gpu_utilization).toEqual([[1, 2, 3]]);
    expect(s.gpu_memory_used).toEqual([[null, null, null]]);
  });
});

describe('sparklinePath', () => {
  const box = { width: 100, height: 10, start: 0, end: 100, max: 100 };

  it('maps time to x and value to y, 0 at the bottom', () => {
    expect(sparklinePath([0, 50, 100], [0, 50, 100], box)).toBe(
      'M0,10L50,5L100,0'
    );
  });

  it('clamps values and breaks the line at gaps', () => {
    expect(sparklinePath([0, 25, 50, 75], [150, null, -5, 50], box)).toBe(
      'M0,0M50,10L75,5'
    );
  });

  it('leaves out points outside the window and needs two points', () => {
    expect(sparklinePath([-10, 100], [1, 1], box)).toBe('');
    expect(sparklinePath([0], [1], box)).toBe('');
    expect(sparklinePath([0, 1], [1, 1], { ...box, max: 0 })).toBe('');
  });

  it('finds the range of known values', () => {
    expect(valueRange([null, 3, 1, 2])).toEqual({ min: 1, max: 3 });
    expect(valueRange([null])).toBeNull();
  });
});
