import { describe, expect, it } from '@jest/globals';

import {
  acceleratorShortSummary,
  acceleratorStatusText,
  acceleratorSummary,
  countdownShortLabel,
  cullReasonText,
  deathHeadline,
  diskLabel,
  environmentLabel,
  executionStateText,
  fetchFailureText,
  limitSourceLabel,
  notebookName,
  policyLabel,
  policyValue,
  shortGpuName,
  tpuLabel
} from '../format/labels';
import { formatAgo, formatDuration, formatWhen } from '../format/time';
import {
  bytesPair,
  clampPercent,
  formatByteRate,
  formatBytes,
  formatBytesPair,
  formatCountdown,
  formatCpuQuota,
  formatCpus,
  formatMoney,
  formatPercent,
  formatPower,
  formatTemperature
} from '../format/units';
import { loadBundle } from '../i18n';
import {
  nearestCountdown,
  percentOf,
  toEpochSeconds
} from '../model/selectors';
import {
  COUNTDOWN_CRITICAL_SECONDS,
  COUNTDOWN_WARN_SECONDS,
  countdownLevel,
  usageLevel,
  worstLevel
} from '../model/state';
import type { Accelerator, IGpu, ITpu } from '../model/types';

const trans = loadBundle();

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** A GPU entry as the server sends it, with the fields the summary reads. */
function gpu(index: number, name: string): IGpu {
  return {
    kind: 'gpu',
    index,
    name,
    uuid: `GPU-${index}`,
    memory_total: 15 * GiB,
    memory_used: 0,
    utilization_gpu: 0,
    utilization_memory: 0,
    temperature_c: null,
    power_draw_w: null,
    power_limit_w: null,
    processes: []
  };
}

function tpu(acceleratorType: string | null): ITpu {
  return {
    kind: 'tpu',
    accelerator_type: acceleratorType,
    devices: ['/dev/accel0'],
    libtpu: true
  };
}

describe('formatBytes', () => {
  it('keeps bytes below 1 KiB as whole bytes', () => {
    expect(formatBytes(trans, 0)).toBe('0 B');
    expect(formatBytes(trans, 512)).toBe('512 B');
    expect(formatBytes(trans, 1023)).toBe('1023 B');
  });

  it('uses binary units with one decimal', () => {
    expect(formatBytes(trans, 1024)).toBe('1.0 KiB');
    expect(formatBytes(trans, 1536)).toBe('1.5 KiB');
    expect(formatBytes(trans, 512 * MiB)).toBe('512.0 MiB');
    expect(formatBytes(trans, 9.1 * GiB)).toBe('9.1 GiB');
    expect(formatBytes(trans, 12.7 * GiB)).toBe('12.7 GiB');
    expect(formatBytes(trans, 2 * 1024 * GiB)).toBe('2.0 TiB');
  });

  it('moves up a unit instead of printing 1024.0', () => {
    expect(formatBytes(trans, 1024 * MiB - 1)).toBe('1.0 GiB');
    expect(formatBytes(trans, 1023.9 * MiB)).toBe('1023.9 MiB');
  });

  it('formats a /proc/meminfo MemTotal the same way', () => {
    // MemTotal: 16318412 kB
    expect(formatBytes(trans, 16318412 * 1024)).toBe('15.6 GiB');
  });

  it('says n/a for unknown or invalid values', () => {
    expect(formatBytes(trans, null)).toBe('n/a');
    expect(formatBytes(trans, undefined)).toBe('n/a');
    expect(formatBytes(trans, -1)).toBe('n/a');
    expect(formatBytes(trans, Number.NaN)).toBe('n/a');
  });
});

describe('formatBytesPair', () => {
  it('prints both numbers in the unit of the total', () => {
    expect(formatBytesPair(trans, 9.1 * GiB, 12.7 * GiB)).toBe('9.1/12.7 GiB');
    expect(formatBytesPair(trans, 512 * MiB, 12.7 * GiB)).toBe('0.5/12.7 GiB');
    expect(formatBytesPair(trans, 0, 40 * GiB)).toBe('0.0/40.0 GiB');
  });

  it('falls back to n/a parts', () => {
    expect(formatBytesPair(trans, null, 4 * GiB)).toBe('n/a/4.0 GiB');
  });
});

describe('percentOf and formatPercent', () => {
  it('computes the share', () => {
    expect(percentOf(1, 4)).toBe(25);
    expect(percentOf(9.1 * GiB, 12.7 * GiB)).toBeCloseTo(71.65, 2);
  });

  it('is null for a zero or unknown total and not clamped above 100', () => {
    expect(percentOf(5, 0)).toBeNull();
    expect(percentOf(5, null)).toBeNull();
    expect(percentOf(6, 5)).toBe(120);
  });

  it('rounds to whole percent and marks tiny values', () => {
    expect(formatPercent(trans, 71.65)).toBe('72%');
    expect(formatPercent(trans, 0)).toBe('0%');
    expect(formatPercent(trans, 0.4)).toBe('<1%');
    expect(formatPercent(trans, 100)).toBe('100%');
    expect(formatPercent(trans, null)).toBe('n/a');
  });

  it('clamps for bars', () => {
    expect(clampPercent(120)).toBe(100);
    expect(clampPercent(-3)).toBe(0);
    expect(clampPercent(null)).toBe(0);
    expect(clampPercent(42.5)).toBe(42.5);
  });

  it('maps percentages to levels at 80 and 90', () => {
    expect(usageLevel(79.9)).toBe('ok');
    expect(usageLevel(80)).toBe('warn');
    expect(usageLevel(90)).toBe('critical');
    expect(usageLevel(null)).toBe('ok');
  });
});

describe('limitSourceLabel', () => {
  it('says where the memory limit comes from in words', () => {
    expect(limitSourceLabel(trans, 'cgroup-v2')).toBe('container limit');
    expect(limitSourceLabel(trans, 'cgroup-v1')).toBe('container limit');
    expect(limitSourceLabel(trans, 'env')).toBe('JupyterHub limit (MEM_LIMIT)');
    expect(limitSourceLabel(trans, 'config')).toBe('set by admin');
    expect(limitSourceLabel(trans, 'host')).toBe('host RAM');
  });

  it('passes unknown sources through', () => {
    expect(limitSourceLabel(trans, 'quantum')).toBe('quantum');
    expect(limitSourceLabel(trans, null)).toBe('unknown');
  });
});

describe('acceleratorSummary', () => {
  it('counts GPUs by model', () => {
    expect(acceleratorSummary(trans, [gpu(0, 'Tesla T4')])).toBe('Tesla T4 x1');
    expect(
      acceleratorSummary(trans, [
        gpu(0, 'NVIDIA A100-SXM4-40GB'),
        gpu(1, 'NVIDIA A100-SXM4-40GB')
      ])
    ).toBe('NVIDIA A100-SXM4-40GB x2');
  });

  it('lists mixed models in order', () => {
    const mixed: Accelerator[] = [
      gpu(0, 'NVIDIA L4'),
      gpu(1, 'Tesla T4'),
      gpu(2, 'NVIDIA L4')
    ];
    expect(acceleratorSummary(trans, mixed)).toBe('NVIDIA L4 x2, Tesla T4 x1');
  });

  it('names TPUs by type', () => {
    expect(acceleratorSummary(trans, [tpu('v2-8')])).toBe('TPU v2-8');
    expect(acceleratorSummary(trans, [tpu(null)])).toBe('TPU');
    expect(tpuLabel(trans, 'v5e-1')).toBe('TPU v5e-1');
  });

  it('says CPU only without accelerators', () => {
    expect(acceleratorSummary(trans, [])).toBe('CPU only');
    expect(acceleratorSummary(trans, null)).toBe('CPU only');
  });

  it('has a compact form for the status bar', () => {
    expect(acceleratorShortSummary(trans, [gpu(0, 'Tesla T4')])).toBe('T4');
    expect(
      acceleratorShortSummary(trans, [
        gpu(0, 'NVIDIA A100-SXM4-40GB'),
        gpu(1, 'NVIDIA A100-SXM4-40GB')
      ])
    ).toBe('2× A100-SXM4-40GB');
    expect(acceleratorShortSummary(trans, [tpu('v2-8')])).toBe('TPU v2-8');
    expect(acceleratorShortSummary(trans, [])).toBe('CPU');
    expect(shortGpuName('NVIDIA')).toBe('NVIDIA');
  });
});

describe('acceleratorStatusText', () => {
  it('says plainly why there is no accelerator', () => {
    expect(acceleratorStatusText(trans, 'ok')).toBeNull();
    expect(acceleratorStatusText(trans, 'none')).toBe('No GPU or TPU found');
    expect(acceleratorStatusText(trans, 'no-driver')).toBe(
      'No NVIDIA driver found'
    );
    expect(acceleratorStatusText(trans, 'error')).toBe(
      'Could not read the accelerators'
    );
    expect(acceleratorStatusText(trans, 'weird')).toBe(
      'Accelerator status: weird'
    );
  });
});

describe('CPU, temperature and power', () => {
  it('formats counts and quotas', () => {
    expect(formatCpus(trans, 1)).toBe('1 CPU');
    expect(formatCpus(trans, 8)).toBe('8 CPUs');
    expect(formatCpuQuota(trans, null)).toBe('no CPU quota');
    expect(formatCpuQuota(trans, 2)).toBe('quota 2 CPUs');
    expect(formatCpuQuota(trans, 1.5)).toBe('quota 1.5 CPUs');
    expect(formatCpuQuota(trans, 0)).toBe('no CPU quota');
  });

  it('formats sensors', () => {
    expect(formatTemperature(trans, 63.4)).toBe('63 °C');
    expect(formatTemperature(trans, null)).toBe('n/a');
    expect(formatPower(trans, 70.2, 250)).toBe('70 W / 250 W');
    expect(formatPower(trans, 70.2, null)).toBe('70 W');
    expect(formatPower(trans, null, 250)).toBe('n/a');
  });
});

describe('labels', () => {
  it('names environments', () => {
    expect(environmentLabel(trans, 'local', null)).toBe('Jupyter server');
    expect(environmentLabel(trans, 'colab', null)).toBe('Colab local runtime');
    expect(environmentLabel(trans, 'jupyterhub', 'ada')).toBe(
      'JupyterHub server (ada)'
    );
  });

  it('names disks', () => {
    expect(diskLabel(trans, 'root_dir')).toBe('Notebook directory');
    expect(diskLabel(trans, 'snapshot_dir')).toBe('Snapshot directory');
    expect(diskLabel(trans, 'scratch_space')).toBe('Scratch space');
  });

  it('describes fetch failures', () => {
    expect(fetchFailureText(trans, { kind: 'network' })).toBe(
      'Server unreachable'
    );
    expect(fetchFailureText(trans, { kind: 'http', status: 404 })).toBe(
      'colab-guard server extension not found (HTTP 404)'
    );
    expect(fetchFailureText(trans, { kind: 'http', status: 403 })).toBe(
      'Not authorised (HTTP 403)'
    );
    expect(fetchFailureText(trans, { kind: 'http', status: 500 })).toBe(
      'Server error (HTTP 500)'
    );
    expect(fetchFailureText(trans, { kind: 'payload' })).toBe(
      'Unexpected answer from the server'
    );
  });

  it('says execution states', () => {
    expect(executionStateText(trans, 'busy')).toBe('busy');
    expect(executionStateText(trans, null)).toBe('unknown');
    expect(executionStateText(trans, 'autorestarting')).toBe('autorestarting');
  });
});

describe('byte units', () => {
  it('formats decimal units on request', () => {
    expect(formatBytes(trans, 9.1e9, 'GB')).toBe('9.1 GB');
    expect(formatBytes(trans, 999, 'GB')).toBe('999 B');
    expect(formatBytes(trans, 1000, 'GB')).toBe('1.0 kB');
    expect(formatBytes(trans, GiB, 'GB')).toBe('1.1 GB');
    expect(formatBytesPair(trans, 9.1e9, 12.7e9, 'GB')).toBe('9.1/12.7 GB');
  });

  it('splits a pair into numbers and unit for sentences', () => {
    expect(bytesPair(11.8 * GiB, 12 * GiB)).toEqual({
      used: '11.8',
      total: '12.0',
      unit: 'GiB'
    });
    expect(bytesPair(null, 12 * GiB)).toBeNull();
  });

  it('formats growth per minute', () => {
    expect(formatByteRate(trans, MiB / 60)).toBe('1.0 MiB/min');
    expect(formatByteRate(trans, -MiB / 60)).toBe('-1.0 MiB/min');
  });
});

describe('formatCountdown', () => {
  it('writes mm:ss with unwrapped minutes', () => {
    expect(formatCountdown(trans, 0)).toBe('00:00');
    expect(formatCountdown(trans, 59)).toBe('00:59');
    expect(formatCountdown(trans, 299)).toBe('04:59');
    expect(formatCountdown(trans, 82 * 60 + 10)).toBe('82:10');
    expect(formatCountdown(trans, 12 * 3600)).toBe('720:00');
  });

  it('rounds a fraction up and never goes below zero', () => {
    expect(formatCountdown(trans, 299.2)).toBe('05:00');
    expect(formatCountdown(trans, 0.1)).toBe('00:01');
    expect(formatCountdown(trans, -5)).toBe('00:00');
  });

  it('says n/a without a number', () => {
    expect(formatCountdown(trans, null)).toBe('n/a');
    expect(formatCountdown(trans, undefined)).toBe('n/a');
    expect(formatCountdown(trans, NaN)).toBe('n/a');
  });
});

describe('countdownLevel', () => {
  it('is amber under 10 minutes and red under 2', () => {
    expect(countdownLevel(3600)).toBe('ok');
    expect(countdownLevel(600)).toBe('ok');
    expect(countdownLevel(599)).toBe('warn');
    expect(countdownLevel(120)).toBe('warn');
    expect(countdownLevel(119)).toBe('critical');
    expect(countdownLevel(0)).toBe('critical');
    expect(COUNTDOWN_WARN_SECONDS).toBe(600);
    expect(COUNTDOWN_CRITICAL_SECONDS).toBe(120);
  });

  it('rounds like the text it colours', () => {
    expect(formatCountdown(trans, 599.5)).toBe('10:00');
    expect(countdownLevel(599.5)).toBe('ok');
    expect(formatCountdown(trans, 119.5)).toBe('02:00');
    expect(countdownLevel(119.5)).toBe('warn');
  });

  it('is ok without a countdown', () => {
    expect(countdownLevel(null)).toBe('ok');
  });
});

describe('durations and times', () => {
  it('says a duration to its two largest units', () => {
    expect(formatDuration(trans, 45)).toBe('45 s');
    expect(formatDuration(trans, 14 * 60 + 10)).toBe('14 min');
    expect(formatDuration(trans, 2 * 3600 + 5 * 60)).toBe('2 h 5 min');
    expect(formatDuration(trans, 3 * 3600)).toBe('3 h');
    expect(formatDuration(trans, 3 * 86400 + 4 * 3600)).toBe('3 d 4 h');
    expect(formatDuration(trans, -1)).toBe('n/a');
  });

  it('says how long ago', () => {
    expect(formatAgo(trans, 10)).toBe('just now');
    expect(formatAgo(trans, 300)).toBe('5 min ago');
  });

  it('reads epoch numbers and ISO strings', () => {
    expect(toEpochSeconds(1700000000.5)).toBe(1700000000.5);
    expect(toEpochSeconds('2023-11-14T22:13:20Z')).toBe(1700000000);
    expect(toEpochSeconds('2023-11-14T22:13:20.500000+00:00')).toBe(
      1700000000.5
    );
    expect(toEpochSeconds('never')).toBeNull();
    expect(toEpochSeconds(null)).toBeNull();
  });

  it('names notebooks by their file', () => {
    expect(notebookName(trans, 'work/train.ipynb')).toBe('train.ipynb');
    expect(notebookName(trans, 'train.ipynb')).toBe('train.ipynb');
    expect(notebookName(trans, null)).toBe('no notebook');
  });
});

describe('policy and cost', () => {
  it('names the policy settings and their values', () => {
    expect(policyLabel(trans, 'cull_idle_timeout')).toBe(
      'Idle kernels culled after'
    );
    expect(policyLabel(trans, 'some_new_thing')).toBe('Some new thing');
    expect(policyValue(trans, { value: 600, unit: 'seconds' })).toBe('10 min');
    expect(policyValue(trans, { value: null, unit: 'seconds' })).toBe(
      'not set'
    );
    expect(policyValue(trans, { value: false, unit: null })).toBe('no');
    expect(policyValue(trans, { value: true })).toBe('yes');
    expect(policyValue(trans, { value: 3, unit: 'GPUs' })).toBe('3 GPUs');
  });

  it('says what ends a kernel', () => {
    expect(cullReasonText(trans, 'idle-culling')).toBe('idle culling');
    expect(cullReasonText(trans, 'idle-timeout')).toBe('idle disconnect');
    expect(cullReasonText(trans, 'max-lifetime')).toBe(
      'end of maximum lifetime'
    );
    expect(countdownShortLabel(trans, 'idle-culling')).toBe('idle');
    expect(countdownShortLabel(trans, 'max-lifetime')).toBe('ends');
  });

  it('formats money', () => {
    expect(formatMoney(trans, 1.234, 'USD')).toBe('1.23 USD');
    expect(formatMoney(trans, 0, 'USD')).toBe('0.00 USD');
    expect(formatMoney(trans, 0.0042, 'CU')).toBe('0.0042 CU');
    expect(formatMoney(trans, null, 'USD')).toBe('n/a');
  });
});

describe('deathHeadline', () => {
  it('says OOM with the figures', () => {
    expect(
      deathHeadline(trans, {
        cause: 'oom-killer',
        confidence: 'certain',
        working_set: 11.8 * GiB,
        limit: 12 * GiB
      })
    ).toBe('OOM at 11.8 of 12.0 GiB');
    expect(
      deathHeadline(trans, {
        cause: 'oom-killer',
        confidence: 'likely',
        working_set: 11.8 * GiB,
        limit: 12 * GiB
      })
    ).toBe('Likely OOM at 11.8 of 12.0 GiB');
    expect(
      deathHeadline(trans, { cause: 'oom-killer', confidence: 'certain' })
    ).toBe('OOM (killed by the out-of-memory killer)');
  });

  it('says the other causes', () => {
    expect(deathHeadline(trans, { cause: 'killed', signal: 'SIGKILL' })).toBe(
      'Killed (SIGKILL)'
    );
    expect(
      deathHeadline(trans, {
        cause: 'crashed',
        signal: 'SIGSEGV',
        exit_code: -11
      })
    ).toBe('Crashed (SIGSEGV)');
    expect(deathHeadline(trans, { cause: 'crashed', exit_code: 1 })).toBe(
      'Crashed (exit code 1)'
    );
    expect(deathHeadline(trans, { cause: 'exited', exit_code: 0 })).toBe(
      'Exited'
    );
  });
});

describe('nearest countdown', () => {
  it('takes the smallest kernel countdown', () => {
    expect(
      nearestCountdown({
        server: { seconds_to_shutdown: 10 },
        kernels: [
          { seconds_to_cull: 900, cull_reason: 'idle-culling' },
          { seconds_to_cull: null, cull_reason: null },
          { seconds_to_cull: 300, cull_reason: 'max-lifetime' }
        ]
      })
    ).toEqual({ seconds: 300, reason: 'max-lifetime' });
  });

  it("falls back to the server's own countdowns without kernel countdowns", () => {
    expect(
      nearestCountdown({
        server: {
          seconds_to_shutdown: 500,
          seconds_to_lifetime_end: 400,
          seconds_to_idle_disconnect: null
        },
        kernels: []
      })
    ).toEqual({ seconds: 400, reason: 'max-lifetime' });
    expect(nearestCountdown({ server: {}, kernels: [] })).toBeNull();
    expect(nearestCountdown(null)).toBeNull();
  });
});

describe('levels and moments', () => {
  it('takes the most alarming level', () => {
    expect(worstLevel()).toBe('ok');
    expect(worstLevel('ok', 'warn')).toBe('warn');
    expect(worstLevel('critical', 'warn', 'ok')).toBe('critical');
  });

  it('says when, with how long ago', () => {
    const now = Date.parse('2023-11-14T22:13:20Z');
    expect(formatWhen(trans, now / 1000 - 300, now)).toMatch(/ · 5 min ago$/);
    expect(formatWhen(trans, null, now)).toBe('n/a');
  });

  it("names the server's shutdown and a likely OOM without figures", () => {
    expect(cullReasonText(trans, 'shutdown')).toBe('server shutdown');
    expect(
      deathHeadline(trans, { cause: 'oom-killer', confidence: 'likely' })
    ).toBe('Likely OOM (killed by the out-of-memory killer)');
  });

  it('goes through the translation bundle', () => {
    // A bundle that marks what it translated: every word comes through it.
    const marked = {
      ...trans,
      __: (msgid: string, ...args: any[]) => `[${trans.__(msgid, ...args)}]`,
      _n: (one: string, many: string, n: number, ...args: any[]) =>
        `[${trans._n(one, many, n, ...args)}]`
    };
    expect(formatBytes(marked, null)).toBe('[n/a]');
    expect(formatDuration(marked, 3 * 3600)).toBe('[3 h]');
    expect(formatCpus(marked, 4)).toBe('[4 CPUs]');
    expect(acceleratorSummary(marked, [])).toBe('[CPU only]');
    expect(fetchFailureText(marked, { kind: 'network' })).toBe(
      '[Server unreachable]'
    );
  });
});
