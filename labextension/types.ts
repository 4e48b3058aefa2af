/**
 * Shape of the JSON answered by `GET {baseUrl}colab-guard/v1/resources`.
 *
 * Sizes are in bytes, percentages in the 0..100 range.
 */

/** Where the memory limit that applies to this server was read from. */
export type LimitSource = 'cgroup-v2' | 'cgroup-v1' | 'env' | 'config' | 'host';

/** Outcome of the accelerator probe. */
export type AcceleratorStatus = 'ok' | 'none' | 'no-driver' | 'error';

/** Host memory, with the limit the out-of-memory killer enforces. */
export interface IMemory {
  total: number;
  used: number;
  available: number;
  limit: number;
  limit_source: LimitSource | string;
  working_set: number;
  percent: number;
}

/** CPU load, logical CPU count and the container CPU quota (in CPUs). */
export interface ICpu {
  percent: number;
  count: number;
  quota: number | null;
}

/** Usage of the file system holding one directory. */
export interface IDiskUsage {
  path: string;
  total: number;
  used: number;
  free: number;
}

/** One process holding memory on a GPU. */
export interface IGpuProcess {
  pid: number;
  used_memory: number | null;
}

/** One NVIDIA GPU as read from NVML. */
export interface IGpu {
  kind: 'gpu';
  index: number;
  name: string;
  uuid?: string;
  memory_total: number;
  memory_used: number;
  utilization_gpu: number | null;
  utilization_memory: number | null;
  temperature_c: number | null;
  power_draw_w: number | null;
  power_limit_w: number | null;
  processes?: IGpuProcess[];
}

/** A TPU VM's locally attached TPU. */
export interface ITpu {
  kind: 'tpu';
  accelerator_type: string | null;
  devices: string[];
  libtpu: boolean;
  [key: string]: unknown;
}

/** Any accelerator the server reports. */
export type Accelerator = IGpu | ITpu;

/** Where the server runs. */
export interface IEnvironment {
  kind: 'local' | 'colab' | 'jupyterhub' | string;
  user: string | null;
}

/** The whole resources payload. */
export interface IResources {
  timestamp: number;
  sample_interval: number;
  environment: IEnvironment;
  host: {
    memory: IMemory;
    cpu: ICpu;
    disk: { [name: string]: IDiskUsage };
  };
  accelerators: Accelerator[];
  accelerator_status: AcceleratorStatus | string;
  accelerator_error: string | null;
  notes: string[];
}
