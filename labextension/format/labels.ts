/**
 * Names of things, in words: accelerators, limits, environments, policies,
 * causes of death, failures. Every word goes through the translation bundle
 * given first. Pure, unit-tested in `__tests__/format.spec.ts`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IFetchFailure } from '../model/state';
import type { Accelerator, IGpu } from '../model/types';
import { formatDuration } from './time';
import { ByteUnits, bytesPair } from './units';

/** Where the memory limit comes from, in words. */
export function limitSourceLabel(
  trans: TranslationBundle,
  source: string | null | undefined
): string {
  switch (source) {
    case 'cgroup-v2':
    case 'cgroup-v1':
      return trans.__('container limit');
    case 'env':
      return trans.__('JupyterHub limit (MEM_LIMIT)');
    case 'config':
      return trans.__('set by admin');
    case 'host':
      return trans.__('host RAM');
    default:
      return source ? String(source) : trans.__('unknown');
  }
}

/** Drop the vendor prefix NVML puts in front of GPU names ("Tesla T4" -> "T4"). */
export function shortGpuName(name: string): string {
  const short = name.replace(/^(NVIDIA|Tesla)\s+/i, '').trim();
  return short || name;
}

/** Label for a TPU: "TPU v2-8", or "TPU" when the type is unknown. */
export function tpuLabel(
  trans: TranslationBundle,
  acceleratorType: string | null | undefined
): string {
  return acceleratorType
    ? trans.__('TPU %1', acceleratorType)
    : trans.__('TPU');
}

interface IGroup {
  label: string;
  short: string;
  count: number;
  tpu: boolean;
}

/** Group accelerators by model, keeping the order they were reported in. */
function groupAccelerators(
  trans: TranslationBundle,
  accelerators: Accelerator[]
): IGroup[] {
  const groups: IGroup[] = [];
  for (const accelerator of accelerators) {
    let label: string;
    let short: string;
    if (accelerator.kind === 'gpu') {
      label = (accelerator as IGpu).name || trans.__('GPU');
      short = shortGpuName(label);
    } else if (accelerator.kind === 'tpu') {
      label = tpuLabel(trans, accelerator.accelerator_type);
      short = label;
    } else {
      continue;
    }
    const group = groups.find(g => g.label === label);
    if (group) {
      group.count += 1;
    } else {
      groups.push({ label, short, count: 1, tpu: accelerator.kind === 'tpu' });
    }
  }
  return groups;
}

/**
 * One line naming the accelerators: "Tesla T4 x1", "NVIDIA A100-SXM4-40GB x2",
 * "TPU v2-8", or "CPU only" when there is none.
 */
export function acceleratorSummary(
  trans: TranslationBundle,
  accelerators: Accelerator[] | null | undefined
): string {
  const groups = groupAccelerators(trans, accelerators ?? []);
  if (groups.length === 0) {
    return trans.__('CPU only');
  }
  return groups
    .map(g => (g.tpu ? g.label : `${g.label} x${g.count}`))
    .join(', ');
}

/** The compact form: "T4", "2× A100-SXM4-40GB", "CPU". */
export function acceleratorShortSummary(
  trans: TranslationBundle,
  accelerators: Accelerator[] | null | undefined
): string {
  const groups = groupAccelerators(trans, accelerators ?? []);
  if (groups.length === 0) {
    return trans.__('CPU');
  }
  return groups
    .map(g => (g.count > 1 ? `${g.count}× ${g.short}` : g.short))
    .join(', ');
}

/**
 * Why no accelerator is listed, plainly, or null when the probe went fine
 * (status "ok").
 */
export function acceleratorStatusText(
  trans: TranslationBundle,
  status: string | null | undefined
): string | null {
  switch (status) {
    case 'ok':
      return null;
    case 'none':
      return trans.__('No GPU or TPU found');
    case 'no-driver':
      return trans.__('No NVIDIA driver found');
    case 'error':
      return trans.__('Could not read the accelerators');
    default:
      return status ? trans.__('Accelerator status: %1', status) : null;
  }
}

/** The environment the server runs in, with the user when known. */
export function environmentLabel(
  trans: TranslationBundle,
  kind: string | null | undefined,
  user?: string | null
): string {
  let label: string;
  switch (kind) {
    case 'local':
      label = trans.__('Jupyter server');
      break;
    case 'colab':
      label = trans.__('Colab local runtime');
      break;
    case 'jupyterhub':
      label = trans.__('JupyterHub server');
      break;
    default:
      label = kind ? String(kind) : trans.__('Unknown');
  }
  return user ? trans.__('%1 (%2)', label, user) : label;
}

/** Name of an entry of `host.disk`. */
export function diskLabel(trans: TranslationBundle, key: string): string {
  switch (key) {
    case 'root_dir':
      return trans.__('Notebook directory');
    case 'snapshot_dir':
      return trans.__('Snapshot directory');
    default: {
      const words = key.replace(/_/g, ' ').trim();
      return words.charAt(0).toUpperCase() + words.slice(1);
    }
  }
}

/** Headline shown instead of the numbers when a poll fails. */
export function fetchFailureText(
  trans: TranslationBundle,
  failure: IFetchFailure
): string {
  switch (failure.kind) {
    case 'network':
      return trans.__('Server unreachable');
    case 'payload':
      return trans.__('Unexpected answer from the server');
    case 'http':
      if (failure.status === 404) {
        return trans.__('colab-guard server extension not found (HTTP 404)');
      }
      if (failure.status === 403 || failure.status === 401) {
        return trans.__('Not authorised (HTTP %1)', failure.status);
      }
      return trans.__('Server error (HTTP %1)', failure.status ?? '?');
  }
}

/** What ends a kernel or the runtime when its countdown runs out, in words. */
export function cullReasonText(
  trans: TranslationBundle,
  reason: string | null | undefined
): string {
  switch (reason) {
    case 'idle-culling':
      return trans.__('idle culling');
    case 'idle-timeout':
      return trans.__('idle disconnect');
    case 'max-lifetime':
      return trans.__('end of maximum lifetime');
    case 'shutdown':
      return trans.__('server shutdown');
    default:
      return reason ? String(reason).replace(/-/g, ' ') : trans.__('nothing');
  }
}

/** A kernel's execution state, in words ("idle", "busy", "starting"). */
export function executionStateText(
  trans: TranslationBundle,
  state: string | null | undefined
): string {
  switch (state) {
    case 'idle':
      return trans.__('idle');
    case 'busy':
      return trans.__('busy');
    case 'starting':
      return trans.__('starting');
    case 'restarting':
      return trans.__('restarting');
    case 'dead':
      return trans.__('dead');
    default:
      return state ? String(state) : trans.__('unknown');
  }
}

/** The compact label of a countdown: "idle" or "ends". */
export function countdownShortLabel(
  trans: TranslationBundle,
  reason: string | null | undefined
): string {
  return reason === 'max-lifetime' || reason === 'lifetime'
    ? trans.__('ends')
    : trans.__('idle');
}

/** The label of one policy setting of the sessions endpoint. */
export function policyLabel(trans: TranslationBundle, name: string): string {
  switch (name) {
    case 'cull_idle_timeout':
      return trans.__('Idle kernels culled after');
    case 'cull_interval':
      return trans.__('Culler checks every');
    case 'cull_connected':
      return trans.__('Cull kernels with a tab open');
    case 'cull_busy':
      return trans.__('Cull busy kernels');
    case 'shutdown_no_activity_timeout':
      return trans.__('Server shuts down after no activity for');
    case 'idle_timeout':
      return trans.__('Idle disconnect after');
    case 'max_lifetime':
      return trans.__('Maximum lifetime');
    case 'enforce':
      return trans.__('colab-guard enforces the limits');
    default: {
      const words = name.replace(/_/g, ' ');
      return words.charAt(0).toUpperCase() + words.slice(1);
    }
  }
}

/** The value of one policy setting: a duration, yes/no, or "not set". */
export function policyValue(
  trans: TranslationBundle,
  item: { value: number | boolean | null; unit?: string | null }
): string {
  const value = item.value;
  if (value === null || value === undefined) {
    return trans.__('not set');
  }
  if (typeof value === 'boolean') {
    return value ? trans.__('yes') : trans.__('no');
  }
  if (item.unit === 'seconds' || item.unit === undefined) {
    return formatDuration(trans, value);
  }
  return item.unit ? `${value} ${item.unit}` : String(value);
}

/** The file name of a notebook path ("work/train.ipynb" -> "train.ipynb"). */
export function notebookName(
  trans: TranslationBundle,
  path: string | null | undefined
): string {
  if (!path) {
    return trans.__('no notebook');
  }
  const parts = path.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

/** The fields of a post-mortem the headline reads. */
export interface IDeathFacts {
  cause: string;
  confidence?: string;
  signal?: string | null;
  exit_code?: number | null;
  working_set?: number | null;
  limit?: number | null;
}

/**
 * Why a kernel died, in a few words: "OOM at 11.8 of 12.0 GiB",
 * "Likely OOM at 11.8 of 12.0 GiB", "Killed (SIGKILL)", "Crashed (SIGSEGV)",
 * "Crashed (exit code 1)", "Exited".
 */
export function deathHeadline(
  trans: TranslationBundle,
  facts: IDeathFacts,
  units: ByteUnits = 'GiB'
): string {
  switch (facts.cause) {
    case 'oom-killer': {
      const likely = facts.confidence === 'likely';
      const pair = bytesPair(facts.working_set, facts.limit, units);
      if (pair) {
        const total = `${pair.total} ${pair.unit}`;
        return likely
          ? trans.__('Likely OOM at %1 of %2', pair.used, total)
          : trans.__('OOM at %1 of %2', pair.used, total);
      }
      return likely
        ? trans.__('Likely OOM (killed by the out-of-memory killer)')
        : trans.__('OOM (killed by the out-of-memory killer)');
    }
    case 'killed':
      return facts.signal
        ? trans.__('Killed (%1)', facts.signal)
        : trans.__('Killed');
    case 'crashed':
      if (facts.signal) {
        return trans.__('Crashed (%1)', facts.signal);
      }
      return typeof facts.exit_code === 'number'
        ? trans.__('Crashed (exit code %1)', facts.exit_code)
        : trans.__('Crashed');
    case 'exited':
      return trans.__('Exited');
    default:
      return facts.cause ? String(facts.cause) : trans.__('Died');
  }
}
