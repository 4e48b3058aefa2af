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

/** One snapshot of a notebook's variables (`GET colab-guard/v1/snapshots`). */
export interface ISnapshot {
  /** The notebook's folder under the snapshot dir (first half of the DELETE path). */
  key: string;
  id: string;
  notebook: string | null;
  /** ISO time. */
  created: string;
  /** Epoch seconds. */
  created_ts?: number;
  reason?: string | null;
  /** Bytes on disk. */
  size: number;
  /** name -> type */
  variables: { [name: string]: string };
  /** alias -> module */
  modules?: { [alias: string]: string };
  /** name -> why it was not saved */
  skipped?: { [name: string]: string };
  /** The command to paste into the new kernel, e.g. "%guard restore <id>". */
  restore: string;
}

/** `GET colab-guard/v1/snapshots`. */
export interface ISnapshotList {
  snapshot_dir: string;
  snapshots: ISnapshot[];
}

/** Why a kernel died. */
export type DeathCause = 'oom-killer' | 'killed' | 'crashed' | 'exited';

/** A dead kernel's post-mortem. */
export interface IPostmortem {
  kernel_id: string | null;
  notebook: string | null;
  /** Epoch seconds (or an ISO string). */
  died_at: number | string | null;
  cause: DeathCause | string;
  confidence: 'certain' | 'likely' | string;
  signal?: string | null;
  exit_code?: number | null;
  working_set?: number | null;
  limit?: number | null;
  percent?: number | null;
  peak_percent?: number | null;
  previous_session?: boolean;
  snapshot: ISnapshot | null;
}

/** `GET colab-guard/v1/postmortems`. */
export interface IPostmortems {
  kernels: IPostmortem[];
  previous_session: IPostmortem[];
}

/** One effective setting of the culling policy, with where it comes from. */
export interface IPolicyItem {
  value: number | boolean | null;
  /** The traitlet it was read from, e.g. "MappingKernelManager.cull_idle_timeout". */
  source: string;
  unit?: string | null;
}

/** Why a kernel's countdown will end it. */
export type CullReason =
  'idle-culling' | 'idle-timeout' | 'max-lifetime' | string;

/** One running kernel in `GET colab-guard/v1/sessions`. */
export interface ISessionKernel {
  id: string;
  name: string;
  path: string | null;
  execution_state: string | null;
  connections: number;
  last_activity: string | null;
  idle_seconds: number | null;
  pid: number | null;
  rss: number | null;
  /** /proc/<pid>/oom_score: the OOM killer ends the highest first. */
  oom_score?: number | null;
  gpu_memory: number | null;
  cull_at: string | null;
  seconds_to_cull: number | null;
  cull_reason: CullReason | null;
  /** Memory by cell from the kernel's heartbeat (oldest first); null without a watcher. */
  cells?: ICellMemory[] | null;
}

/** One cell run and what it did to memory (`%guard cells` in the kernel). */
export interface ICellMemory {
  /** The prompt number the notebook shows. */
  number: number | null;
  first_line: string;
  started: number;
  seconds: number | null;
  /** Growth of the container's working set across the cell. */
  growth: number | null;
  working_set_peak: number | null;
  /** Growth of this kernel's own memory across the cell (so far, while it runs). */
  rss_growth: number | null;
  rss_peak: number | null;
  running: boolean;
}

/** Accelerator hours over the last 7 days, against the weekly budget. */
export interface IAcceleratorHours {
  days: number;
  hours: number;
  by_accelerator: { [name: string]: number };
  budget: number | null;
  left: number | null;
  warning: string | null;
}

/** The server's own countdowns. */
export interface ISessionServer {
  started: string | null;
  last_activity: string | null;
  idle_seconds?: number | null;
  seconds_to_shutdown: number | null;
  idle_disconnect_at?: string | null;
  seconds_to_idle_disconnect?: number | null;
  /** The outside culler's first check after idle_disconnect_at. */
  idle_disconnect_by?: string | null;
  seconds_to_idle_disconnect_by?: number | null;
  lifetime_ends_at: string | null;
  seconds_to_lifetime_end: number | null;
  /** Under JupyterHub: the hub's idle culler's clock. */
  hub?: IHubClock | null;
}

/** What keeps a hub server alive: one source and when it last moved the hub's clock. */
export interface IKeptAliveBy {
  source:
    'kernel-connection' | 'browser-tab' | 'colab-guard-panel' | 'busy-kernel';
  count?: number;
  last?: string | null;
}

/** The hub's idle culler's countdown, as the server reads it from the hub. */
export interface IHubClock {
  /** The hub told this server's last activity; else the countdown is jupyter_server's. */
  answered: boolean;
  error?: string | null;
  hub_last_activity?: string | null;
  basis?: 'server' | 'user' | null;
  activity?: string | null;
  cull_from: string | null;
  cull_by: string | null;
  kept_alive_by: IKeptAliveBy[];
  /** One sentence a user acts on. */
  message: string;
}

/** What the session has cost, where a rate is configured for this accelerator. */
export interface ICost {
  rate: number;
  unit: string;
  pattern: string;
  accrued: number;
  accrued_low_utilization: number;
  hours: number;
  low_utilization_threshold?: number;
}

/** Advice drawn from the samples. */
export interface ISessionWarning {
  kind: 'low-utilization' | 'memory-growth' | string;
  message: string;
  minutes?: number;
  causes?: string[];
  seconds_to_limit?: number;
  bytes_per_second?: number;
  /** The GPU-idle diagnosis: its cause and the figures it rests on. */
  cause?: string | null;
  evidence?: { [name: string]: unknown } | null;
  [key: string]: unknown;
}

/** `GET colab-guard/v1/sessions`. */
export interface ISessions {
  now: string;
  server: ISessionServer;
  policy: { [name: string]: IPolicyItem };
  kernels: ISessionKernel[];
  cost: ICost | null;
  warnings: ISessionWarning[];
  accelerator_hours?: IAcceleratorHours | null;
}

/** `GET colab-guard/v1/history?seconds=N`: parallel arrays, one list per GPU. */
export interface IHistory {
  interval: number;
  /** Epoch seconds. */
  t: number[];
  memory_working_set: (number | null)[];
  memory_limit: number | null;
  gpu_utilization: (number | null)[][];
  gpu_memory_used: (number | null)[][];
}
