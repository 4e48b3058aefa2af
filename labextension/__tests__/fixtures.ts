/**
 * Payloads shaped like the server's, for the unit tests.
 */
import type {
  IGpu,
  IPostmortem,
  IResources,
  ISessions,
  ISnapshot
} from '../model/types';

export const GiB = 1024 ** 3;
export const T0 = 1_700_000_000;

/** A resources answer: `workingSet` of a 12 GiB container limit. */
export function resources(
  workingSet = 9 * GiB,
  overrides: Partial<IResources> = {}
): IResources {
  return {
    timestamp: T0,
    sample_interval: 1,
    environment: { kind: 'colab', user: null },
    host: {
      memory: {
        total: 16 * GiB,
        used: 10 * GiB,
        available: 6 * GiB,
        limit: 12 * GiB,
        limit_source: 'cgroup-v2',
        working_set: workingSet,
        percent: (workingSet / (12 * GiB)) * 100
      },
      cpu: { percent: 10, count: 2, quota: null },
      disk: {}
    },
    accelerators: [],
    accelerator_status: 'none',
    accelerator_error: null,
    notes: [],
    ...overrides
  };
}

/** A sessions answer with the given kernels (600 s idle culling policy). */
export function sessions(
  kernels: Partial<ISessions['kernels'][number]>[] = [],
  overrides: Partial<ISessions> = {}
): ISessions {
  return {
    now: '2023-11-14T22:13:20Z',
    server: {
      started: '2023-11-14T21:00:00Z',
      last_activity: '2023-11-14T22:10:00Z',
      seconds_to_shutdown: null,
      lifetime_ends_at: null,
      seconds_to_lifetime_end: null,
      seconds_to_idle_disconnect: null
    },
    policy: {
      cull_idle_timeout: {
        value: 600,
        source: 'MappingKernelManager.cull_idle_timeout',
        unit: 'seconds'
      },
      cull_interval: {
        value: 60,
        source: 'MappingKernelManager.cull_interval',
        unit: 'seconds'
      },
      cull_connected: {
        value: false,
        source: 'MappingKernelManager.cull_connected',
        unit: null
      },
      cull_busy: {
        value: false,
        source: 'MappingKernelManager.cull_busy',
        unit: null
      },
      max_lifetime: {
        value: null,
        source: 'ColabGuard.max_lifetime',
        unit: 'seconds'
      }
    },
    kernels: kernels.map((k, i) => ({
      id: `k${i}`,
      name: 'python3',
      path: `work/nb${i}.ipynb`,
      execution_state: 'idle',
      connections: 0,
      last_activity: '2023-11-14T22:10:00Z',
      idle_seconds: 200,
      pid: 1000 + i,
      rss: GiB,
      gpu_memory: null,
      cull_at: null,
      seconds_to_cull: 400,
      cull_reason: 'idle-culling',
      ...k
    })),
    cost: null,
    warnings: [],
    ...overrides
  };
}

/** A snapshot of a notebook. */
export function snapshot(
  key: string,
  id: string,
  overrides: Partial<ISnapshot> = {}
): ISnapshot {
  return {
    key,
    id,
    notebook: `work/${key}.ipynb`,
    created: '2023-11-14T22:00:00Z',
    created_ts: T0 - 800,
    reason: 'watcher',
    size: 2 * GiB,
    variables: { x: 'ndarray', df: 'DataFrame' },
    modules: { np: 'numpy' },
    skipped: { f: 'function defined in the notebook' },
    restore: `%guard restore ${id}`,
    ...overrides
  };
}

/** A post-mortem of an OOM-killed kernel. */
export function oom(overrides: Partial<IPostmortem> = {}): IPostmortem {
  return {
    kernel_id: 'dead1',
    notebook: 'work/train.ipynb',
    died_at: T0 - 60,
    cause: 'oom-killer',
    confidence: 'certain',
    signal: 'SIGKILL',
    exit_code: -9,
    working_set: 11.8 * GiB,
    limit: 12 * GiB,
    percent: 98.3,
    peak_percent: 99.1,
    snapshot: snapshot('train', '20231114-220000'),
    ...overrides
  };
}

/**
 * One A100 as the server reports it, with the readings of device 0 of the
 * recorded box in tests/data/nvml/a100x2.json (30114 MiB of 40960 MiB used).
 */
export function gpu(index: number, overrides: Partial<IGpu> = {}): IGpu {
  return {
    kind: 'gpu',
    index,
    name: 'NVIDIA A100-SXM4-40GB',
    uuid: `GPU-${index}`,
    memory_total: 40960 * 1024 ** 2,
    memory_used: 30114 * 1024 ** 2,
    utilization_gpu: 2,
    utilization_memory: 1,
    temperature_c: 33,
    power_draw_w: 61.2,
    power_limit_w: 400,
    processes: [
      { pid: 4242, used_memory: 22016 * 1024 ** 2 },
      { pid: 4343, used_memory: 7680 * 1024 ** 2 }
    ],
    ...overrides
  };
}
