import { describe, expect, it } from '@jest/globals';

import { linearFit, projectTimeToLimit } from '../model/projection';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const T0 = 1_700_000_000; // epoch seconds, as the server sends them

/** Samples every `step` seconds for `seconds`, valued by `f(elapsed)`. */
function samples(seconds: number, step: number, f: (s: number) => number) {
  const t: number[] = [];
  const y: number[] = [];
  for (let s = 0; s <= seconds; s += step) {
    t.push(T0 + s);
    y.push(f(s));
  }
  return { t, y };
}

describe('linearFit', () => {
  it('recovers an exact line, at epoch-sized x without losing precision', () => {
    const { t, y } = samples(300, 1, s => 4 * GiB + 10 * MiB * s);
    const fit = linearFit(t, y)!;
    expect(fit.slope).toBeCloseTo(10 * MiB, 3);
    expect(fit.r2).toBeCloseTo(1, 9);
    expect(fit.n).toBe(301);
  });

  it('gives r² 0 for a flat line and null without spread in x', () => {
    expect(linearFit([1, 2, 3], [5, 5, 5])!.r2).toBe(0);
    expect(linearFit([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(linearFit([1], [1])).toBeNull();
  });
});

describe('projectTimeToLimit', () => {
  it('projects a steady climb to the limit', () => {
    // Given 6 GiB used, climbing 10 MiB/s, a 12 GiB limit
    const { t, y } = samples(
      300,
      2,
      s => 6 * GiB - 300 * 10 * MiB + 10 * MiB * s
    );

    // When projected
    const p = projectTimeToLimit(t, y, 12 * GiB)!;

    // Then the 6 GiB of headroom last 614.4 s
    expect(p.bytesPerSecond).toBeCloseTo(10 * MiB, 0);
    expect(p.secondsToLimit).toBeCloseTo((6 * GiB) / (10 * MiB), 3);
    expect(p.from).toBe(T0 + 300);
  });

  it('fits only the last window', () => {
    // Given a long flat stretch, then a climb in the last 2 minutes
    const { t, y } = samples(900, 1, s =>
      s < 780 ? 4 * GiB : 4 * GiB + (s - 780) * 20 * MiB
    );

    // Then a 2-minute window sees the climb, a 15-minute one a poor fit
    const recent = projectTimeToLimit(t, y, 12 * GiB, { windowSeconds: 120 })!;
    expect(recent.bytesPerSecond).toBeCloseTo(20 * MiB, 0);
    expect(
      projectTimeToLimit(t, y, 12 * GiB, { windowSeconds: 900 })
    ).toBeNull();
  });

  it('is null when memory is flat, falling or noisy', () => {
    const flat = samples(300, 1, () => 4 * GiB);
    expect(projectTimeToLimit(flat.t, flat.y, 12 * GiB)).toBeNull();
    const falling = samples(300, 1, s => 8 * GiB - s * MiB);
    expect(projectTimeToLimit(falling.t, falling.y, 12 * GiB)).toBeNull();
    // alternating ±1 GiB around a slow rise: r² far below 0.6
    const noisy = samples(
      300,
      1,
      s => 4 * GiB + s * 10 * 1024 + (s % 2 ? GiB : -GiB)
    );
    expect(projectTimeToLimit(noisy.t, noisy.y, 12 * GiB)).toBeNull();
  });

  it('needs enough samples over enough time', () => {
    const few = samples(18, 2, s => GiB + s * 10 * MiB); // 10 points, 18 s
    expect(projectTimeToLimit(few.t, few.y, 12 * GiB)).toBeNull();
    expect(
      projectTimeToLimit(few.t, few.y, 12 * GiB, { minSpanSeconds: 10 })
    ).not.toBeNull();
    expect(projectTimeToLimit([], [], 12 * GiB)).toBeNull();
  });

  it('skips missing samples', () => {
    const { t, y } = samples(300, 1, s => 6 * GiB + 10 * MiB * s);
    const gappy: (number | null)[] = y.map((v, i) => (i % 3 === 0 ? null : v));
    const p = projectTimeToLimit(t, gappy, 12 * GiB)!;
    expect(p.bytesPerSecond).toBeCloseTo(10 * MiB, 0);
  });

  it('says 0 past the limit and null without a limit or beyond the horizon', () => {
    const over = samples(300, 1, s => 11 * GiB + 10 * MiB * s);
    expect(projectTimeToLimit(over.t, over.y, 12 * GiB)!.secondsToLimit).toBe(
      0
    );
    expect(projectTimeToLimit(over.t, over.y, null)).toBeNull();
    const slow = samples(300, 1, s => GiB + 2 * 1024 * s); // 2 KiB/s: > 24 h to 12 GiB
    expect(projectTimeToLimit(slow.t, slow.y, 12 * GiB)).toBeNull();
    expect(
      projectTimeToLimit(slow.t, slow.y, 12 * GiB, { horizonSeconds: 1e9 })
    ).not.toBeNull();
  });
});
