import { describe, expect, it } from '@jest/globals';

import {
  acceleratorShortSummary,
  acceleratorStatusText,
  acceleratorSummary,
  clampPercent,
  countdownLevel,
  countdownShortLabel,
  COUNTDOWN_CRITICAL_SECONDS,
  COUNTDOWN_WARN_SECONDS,
  cullReasonText,
  deathHeadline,
  diskLabel,
  environmentLabel,
  fetchFailureText,
  formatAgo,
  formatByteRate,
  formatBytes,
  formatBytesPair,
  formatCountdown,
  formatCpuQuota,
  formatCpus,
  formatDuration,
  formatMoney,
  formatPercent,
  formatPower,
  formatTemperature,
  limitSourceLabel,
  nearestCountdown,
  notebookName,
  percentOf,
  policyLabel,
  policyValue,
  shortGpuName,
  statusBarText,
  toEpochSeconds,
  tpuLabel,
  usageLevel
} from '../format';
import type { Accelerator, IGpu, ITpu } from '../types';

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
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('uses binary units with one decimal', () => {
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(512 * MiB)).toBe('512.0 MiB');
    expect(formatBytes(9.1 * GiB)).toBe('9.1 GiB');
    expect(formatBytes(12.7 * GiB)).toBe('12.7 GiB');
    expect(formatBytes(2 * 1024 * GiB)).toBe('2.0 TiB');
  });

  it('moves up a unit instead of printing 1024.0', () => {
    expect(formatBytes(1024 * MiB - 1)).toBe('1.0 GiB');
    expect(formatBytes(1023.9 * MiB)).toBe('1023.9 MiB');
  });

  it('formats a /proc/meminfo MemTotal the same way', () => {
    // MemTotal: 16318412 kB
    expect(formatBytes(16318412 * 1024)).toBe('15.6 GiB');
  });

  it('says n/a for unknown or invalid values', () => {
    expect(formatBytes(null)).toBe('n/a');
    expect(formatBytes(undefined)).toBe('n/a');
    expect(formatBytes(-1)).toBe('n/a');
    expect(formatBytes(Number.NaN)).toBe('n/a');
  });
});

describe('formatBytesPair', () => {
  it('prints both numbers in the unit of the total', () => {
    expect(formatBytesPair(9.1 * GiB, 12.7 * GiB)).toBe('9.1/12.7 GiB');
    expect(formatBytesPair(512 * MiB, 12.7 * GiB)).toBe('0.5/12.7 GiB');
    expect(formatBytesPair(0, 40 * GiB)).toBe('0.0/40.0 GiB');
  });

  it('falls back to n/a parts', () => {
    expect(formatBytesPair(null, 4 * GiB)).toBe('n/a/4.0 GiB');
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
    expect(formatPercent(71.65)).toBe('72%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.4)).toBe('<1%');
    expect(formatPercent(100)).toBe('100%');
    expect(formatPercent(null)).toBe('n/a');
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
    expect(limitSourceLabel('cgroup-v2')).toBe('container limit');
    expect(limitSourceLabel('cgroup-v1')).toBe('container limit');
    expect(limitSourceLabel('env')).toBe('JupyterHub limit (MEM_LIMIT)');
    expect(limitSourceLabel('config')).toBe('set by admin');
    expect(limitSourceLabel('host')).toBe('host RAM');
  });

  it('passes unknown sources through', () => {
    expect(limitSourceLabel('quantum')).toBe('quantum');
    expect(limitSourceLabel(null)).toBe('unknown');
  });
});

describe('acceleratorSummary', () => {
  it('counts GPUs by model', () => {
    expect(acceleratorSummary([gpu(0, 'Tesla T4')])).toBe('Tesla T4 x1');
    expect(
      acceleratorSummary([
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
    expect(acceleratorSummary(mixed)).toBe('NVIDIA L4 x2, Tesla T4 x1');
  });

  it('names TPUs by type', () => {
    expect(acceleratorSummary([tpu('v2-8')])).toBe('TPU v2-8');
    expect(acceleratorSummary([tpu(null)])).toBe('TPU');
    expect(tpuLabel('v5e-1')).toBe('TPU v5e-1');
  });

  it('says CPU only without accelerators', () => {
    expect(acceleratorSummary([])).toBe('CPU only');
    expect(acceleratorSummary(null)).toBe('CPU only');
  });

  it('has a compact form for the status bar', () => {
    expect(acceleratorShortSummary([gpu(0, 'Tesla T4')])).toBe('T4');
    expect(
      acceleratorShortSummary([
        gpu(0, 'NVIDIA A100-SXM4-40GB'),
        gpu(1, 'NVIDIA A100-SXM4-40GB')
      ])
    ).toBe('2× A100-SXM4-40GB');
    expect(acceleratorShortSummary([tpu('v2-8')])).toBe('TPU v2-8');
    expect(acceleratorShortSummary([])).toBe('CPU');
    expect(shortGpuName('NVIDIA')).toBe('NVIDIA');
  });
});

describe('acceleratorStatusText', () => {
  it('says plainly why there is no accelerator', () => {
    expect(acceleratorStatusText('ok')).toBeNull();
    expect(acceleratorStatusText('none')).toBe('No GPU or TPU found');
    expect(acceleratorStatusText('no-driver')).toBe('No NVIDIA driver found');
    expect(acceleratorStatusText('error')).toBe(
      'Could not read the accelerators'
    );
    expect(acceleratorStatusText('weird')).toBe('Accelerator status: weird');
  });
});

describe('CPU, temperature and power', () => {
  it('formats counts and quotas', () => {
    expect(formatCpus(1)).toBe('1 CPU');
    expect(formatCpus(8)).toBe('8 CPUs');
    expect(formatCpuQuota(null)).toBe('no CPU quota');
    expect(formatCpuQuota(2)).toBe('quota 2 CPUs');
    expect(formatCpuQuota(1.5)).toBe('quota 1.5 CPUs');
    expect(formatCpuQuota(0)).toBe('no CPU quota');
  });

  it('formats sensors', () => {
    expect(formatTemperature(63.4)).toBe('63 °C');
    expect(formatTemperature(null)).toBe('n/a');
    expect(formatPower(70.2, 250)).toBe('70 W / 250 W');
    expect(formatPower(70.2, null)).toBe('70 W');
    expect(formatPower(null, 250)).toBe('n/a');
  });
});

describe('labels', () => {
  it('names environments', () => {
    expect(environmentLabel('local', null)).toBe('Local');
    expect(environmentLabel('colab', null)).toBe('Colab');
    expect(environmentLabel('jupyterhub', 'ada')).toBe('JupyterHub (ada)');
  });

  it('names disks', () => {
    expect(diskLabel('root_dir')).toBe('Notebook directory');
    expect(diskLabel('snapshot_dir')).toBe('Snapshot directory');
    expect(diskLabel('scratch_space')).toBe('Scratch space');
  });

  it('describes fetch failures', () => {
    expect(fetchFailureText({ kind: 'network' })).toBe('Server unreachable');
    expect(fetchFailureText({ kind: 'http', status: 404 })).toBe(
      'colab-guard server extension not found (HTTP 404)'
    );
    expect(fetchFailureText({ kind: 'http', status: 403 })).toBe(
      'Not authorised (HTTP 403)'
    );
    expect(fetchFailureText({ kind: 'http', status: 500 })).toBe(
      'Server error (HTTP 500)'
    );
    expect(fetchFailureText({ kind: 'payload' })).toBe(
      'Unexpected answer from the server'
    );
  });

  it('builds the status bar text', () => {
    expect(statusBarText([gpu(0, 'Tesla T4')], 9.1 * GiB, 12.7 * GiB)).toBe(
      'T4 · RAM 9.1/12.7 GiB'
    );
    expect(statusBarText([], 1 * GiB, 16 * GiB)).toBe('CPU · RAM 1.0/16.0 GiB');
  });
});

describe('byte units', () => {
  it('formats decimal units on request', () => {
    expect(formatBytes(9.1e9, 'GB')).toBe('9.1 GB');
    expect(formatBytes(999, 'GB')).toBe('999 B');
    expect(formatBytes(1000, 'GB')).toBe('1.0 kB');
    expect(formatBytes(GiB, 'GB')).toBe('1.1 GB');
    expect(formatBytesPair(9.1e9, 12.7e9, 'GB')).toBe('9.1/12.7 GB');
  });

  it('joins a pair with words for sentences', () => {
    expect(formatBytesPair(11.8 * GiB, 12 * GiB, 'GiB', ' of ')).toBe(
      '11.8 of 12.0 GiB'
    );
  });

  it('formats growth per minute', () => {
    expect(formatByteRate(MiB / 60)).toBe('1.0 MiB/min');
    expect(formatByteRate(-MiB / 60)).toBe('-1.0 MiB/min');
  });
});

describe('formatCountdown', () => {
  it('writes mm:ss with unwrapped minutes', () => {
    expect(formatCountdown(0)).toBe('00:00');
    expect(formatCountdown(59)).toBe('00:59');
    expect(formatCountdown(299)).toBe('04:59');
    expect(formatCountdown(82 * 60 + 10)).toBe('82:10');
    expect(formatCountdown(12 * 3600)).toBe('720:00');
  });

  it('rounds a fraction up and never goes below zero', () => {
    expect(formatCountdown(299.2)).toBe('05:00');
    expect(formatCountdown(0.1)).toBe('00:01');
    expect(formatCountdown(-5)).toBe('00:00');
  });

  it('says n/a without a number', () => {
    expect(formatCountdown(null)).toBe('n/a');
    expect(formatCountdown(undefined)).toBe('n/a');
    expect(formatCountdown(NaN)).toBe('n/a');
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
    expect(formatCountdown(599.5)).toBe('10:00');
    expect(countdownLevel(599.5)).toBe('ok');
    expect(formatCountdown(119.5)).toBe('02:00');
    expect(countdownLevel(119.5)).toBe('warn');
  });

  it('is ok without a countdown', () => {
    expect(countdownLevel(null)).toBe('ok');
  });
});

describe('durations and times', () => {
  it('says a duration to its two largest units', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(14 * 60 + 10)).toBe('14 min');
    expect(formatDuration(2 * 3600 + 5 * 60)).toBe('2 h 5 min');
    expect(formatDuration(3 * 3600)).toBe('3 h');
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe('3 d 4 h');
    expect(formatDuration(-1)).toBe('n/a');
  });

  it('says how long ago', () => {
    expect(formatAgo(10)).toBe('just now');
    expect(formatAgo(300)).toBe('5 min ago');
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
    expect(notebookName('work/train.ipynb')).toBe('train.ipynb');
    expect(notebookName('train.ipynb')).toBe('train.ipynb');
    expect(notebookName(null)).toBe('no notebook');
  });
});

describe('policy and cost', () => {
  it('names the policy settings and their values', () => {
    expect(policyLabel('cull_idle_timeout')).toBe('Idle kernels culled after');
    expect(policyLabel('some_new_thing')).toBe('Some new thing');
    expect(policyValue({ value: 600, unit: 'seconds' })).toBe('10 min');
    expect(policyValue({ value: null, unit: 'seconds' })).toBe('not set');
    expect(policyValue({ value: false, unit: null })).toBe('no');
    expect(policyValue({ value: true })).toBe('yes');
    expect(policyValue({ value: 3, unit: 'GPUs' })).toBe('3 GPUs');
  });

  it('says what ends a kernel', () => {
    expect(cullReasonText('idle-culling')).toBe('idle culling');
    expect(cullReasonText('idle-timeout')).toBe('idle disconnect');
    expect(cullReasonText('max-lifetime')).toBe('end of maximum lifetime');
    expect(countdownShortLabel('idle-culling')).toBe('idle');
    expect(countdownShortLabel('max-lifetime')).toBe('ends');
  });

  it('formats money', () => {
    expect(formatMoney(1.234, 'USD')).toBe('1.23 USD');
    expect(formatMoney(0, 'USD')).toBe('0.00 USD');
    expect(formatMoney(0.0042, 'CU')).toBe('0.0042 CU');
    expect(formatMoney(null, 'USD')).toBe('n/a');
  });
});

describe('deathHeadline', () => {
  it('says OOM with the figures', () => {
    expect(
      deathHeadline({
        cause: 'oom-killer',
        confidence: 'certain',
        working_set: 11.8 * GiB,
        limit: 12 * GiB
      })
    ).toBe('OOM at 11.8 of 12.0 GiB');
    expect(
      deathHeadline({
        cause: 'oom-killer',
        confidence: 'likely',
        working_set: 11.8 * GiB,
        limit: 12 * GiB
      })
    ).toBe('Likely OOM at 11.8 of 12.0 GiB');
    expect(deathHeadline({ cause: 'oom-killer', confidence: 'certain' })).toBe(
      'OOM (killed by the out-of-memory killer)'
    );
  });

  it('says the other causes', () => {
    expect(deathHeadline({ cause: 'killed', signal: 'SIGKILL' })).toBe(
      'Killed (SIGKILL)'
    );
    expect(
      deathHeadline({ cause: 'crashed', signal: 'SIGSEGV', exit_code: -11 })
    ).toBe('Crashed (SIGSEGV)');
    expect(deathHeadline({ cause: 'crashed', exit_code: 1 })).toBe(
      'Crashed (exit code 1)'
    );
    expect(deathHeadline({ cause: 'exited', exit_code: 0 })).toBe('Exited');
  });
});

describe('status bar countdown', () => {
  it('adds the countdown to the status bar text', () => {
    expect(
      statusBarText([gpu(0, 'Tesla T4')], 9.1 * GiB, 12.7 * GiB, 'GiB', {
        seconds: 82 * 60 + 10,
        reason: 'idle-culling'
      })
    ).toBe('T4 · RAM 9.1/12.7 GiB · idle 82:10');
  });

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
