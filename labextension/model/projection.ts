/**
 * When will memory reach its limit? A least-squares line through the working
 * set of the last minutes, extended to the limit. Pure math, unit-tested in
 * `__tests__/projection.spec.ts`.
 */

/** A least-squares line y = intercept + slope * x, with its fit. */
export interface ILinearFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination, 0..1 (0 for a flat series). */
  r2: number;
  /** Points used. */
  n: number;
}

/**
 * Fit a line through the points (xs[i], ys[i]); null with fewer than two
 * points or when every x is the same.
 */
export function linearFit(xs: number[], ys: number[]): ILinearFit | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) {
    return null;
  }
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += xs[i];
    meanY += ys[i];
  }
  meanX /= n;
  meanY /= n;
  // Centre first: epoch seconds squared would lose precision.
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - meanX;
    const dy = ys[i] - meanY;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) {
    return null;
  }
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: meanY - slope * meanX, r2, n };
}

/** Tuning of {@link projectTimeToLimit}. */
export interface IProjectionOptions {
  /** Seconds of history fitted, ending at the latest sample (default 300). */
  windowSeconds?: number;
  /** Fewest samples in the window (default 10). */
  minPoints?: number;
  /** Shortest span the samples must cover, in seconds (default 60). */
  minSpanSeconds?: number;
  /** Least r² for the climb to count as steady (default 0.6). */
  minR2?: number;
  /** Slowest growth that counts as climbing, bytes per second (default 1 KiB/s). */
  minBytesPerSecond?: number;
  /** Projections further out than this are dropped, in seconds (default 24 h). */
  horizonSeconds?: number;
}

/** A projection of the working set reaching the limit. */
export interface IProjection {
  /** Seconds from the latest sample until the limit is reached (0: already there). */
  secondsToLimit: number;
  /** The fitted growth. */
  bytesPerSecond: number;
  r2: number;
  /** Epoch seconds of the latest sample the projection starts from. */
  from: number;
}

/**
 * Project when the working set reaches `limit`, from samples at epoch seconds
 * `t`: fit a line through the last `windowSeconds` and divide the headroom
 * left after the latest sample by the slope. Null when memory is not
 * climbing steadily (too few samples, too short a span, a flat or falling
 * line, a poor fit), when the limit is unknown, or beyond the horizon.
 */
export function projectTimeToLimit(
  t: number[],
  workingSet: (number | null)[],
  limit: number | null | undefined,
  options: IProjectionOptions = {}
): IProjection | null {
  const windowSeconds = options.windowSeconds ?? 300;
  const minPoints = options.minPoints ?? 10;
  const minSpan = options.minSpanSeconds ?? 60;
  const minR2 = options.minR2 ?? 0.6;
  const minRate = options.minBytesPerSecond ?? 1024;
  const horizon = options.horizonSeconds ?? 24 * 3600;
  if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) {
    return null;
  }
  const xs: number[] = [];
  const ys: number[] = [];
  const n = Math.min(t.length, workingSet.length);
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    const y = workingSet[i];
    if (typeof y === 'number' && Number.isFinite(y) && Number.isFinite(t[i])) {
      last = Math.max(last, t[i]);
    }
  }
  if (!Number.isFinite(last)) {
    return null;
  }
  let latestValue = 0;
  for (let i = 0; i < n; i++) {
    const y = workingSet[i];
    if (
      typeof y !== 'number' ||
      !Number.isFinite(y) ||
      t[i] < last - windowSeconds
    ) {
      continue;
    }
    xs.push(t[i]);
    ys.push(y);
    if (t[i] === last) {
      latestValue = y;
    }
  }
  const first = xs.reduce((a, b) => Math.min(a, b), Infinity);
  if (xs.length < minPoints || last - first < minSpan) {
    return null;
  }
  const fit = linearFit(xs, ys);
  if (!fit || fit.slope < minRate || fit.r2 < minR2) {
    return null;
  }
  const headroom = limit - latestValue;
  const seconds = headroom <= 0 ? 0 : headroom / fit.slope;
  if (seconds > horizon) {
    return null;
  }
  return {
    secondsToLimit: seconds,
    bytesPerSecond: fit.slope,
    r2: fit.r2,
    from: last
  };
}
