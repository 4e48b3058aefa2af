/**
 * DOM builders for the panel: one function per section, each taking the
 * payload and returning a fresh element. No state is kept here.
 */
import {
  acceleratorStatusText,
  acceleratorSummary,
  clampPercent,
  diskLabel,
  environmentLabel,
  fetchFailureText,
  formatBytes,
  formatBytesPair,
  formatCpuQuota,
  formatCpus,
  formatPercent,
  formatPower,
  formatTemperature,
  limitSourceLabel,
  percentOf,
  tpuLabel,
  usageLevel,
  NOT_AVAILABLE
} from './format';
import type { ResourceState } from './model';
import type { IGpu, IResources, ITpu } from './types';

/** CSS class prefix of every element built here. */
export const CSS = 'jp-colab-guard';

type Child = Node | string | null | undefined | false;

/** Create an element with attributes and children (strings become text). */
function h(
  tag: string,
  attrs: { [name: string]: string | number | undefined } = {},
  ...children: Child[]
): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined) {
      node.setAttribute(name, String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** A titled section, labelled by its heading. */
function section(key: string, title: string, ...children: Child[]): HTMLElement {
  const headingId = `${CSS}-${key}-heading`;
  return h(
    'section',
    { class: `${CSS}-section`, 'aria-labelledby': headingId, 'data-section': key },
    h('h3', { class: `${CSS}-heading`, id: headingId }, title),
    ...children
  );
}

/** A "label: value" row; `attrs` land on the value element. */
function row(
  label: string,
  value: string,
  attrs: { [name: string]: string | number | undefined } = {}
): HTMLElement {
  return h(
    'div',
    { class: `${CSS}-row` },
    h('span', { class: `${CSS}-row-label` }, label),
    h('span', { class: `${CSS}-row-value`, ...attrs }, value)
  );
}

/** Options of {@link meter}. */
interface IMeterOptions {
  /** Accessible name (and visible label unless `shortLabel` is given). */
  label: string;
  /** Visible label where the context already names the device. */
  shortLabel?: string;
  /** Percentage shown (null when unknown). */
  percent: number | null;
  /** Visible text next to the label, e.g. "9.1/12.7 GiB · 72%". */
  text: string;
  /** Spoken value, e.g. "9.1 GiB of 12.7 GiB (72%)". */
  valueText: string;
  /** Secondary line under the bar. */
  detail?: string;
  /** Extra attributes on the meter root (data-* for tests). */
  attrs?: { [name: string]: string | number | undefined };
}

/** A labelled bar with role="progressbar" and its aria values. */
function meter(options: IMeterOptions): HTMLElement {
  const clamped = clampPercent(options.percent);
  const fill = h('div', { class: `${CSS}-bar-fill` });
  fill.style.width = `${clamped}%`;
  return h(
    'div',
    { class: `${CSS}-meter`, ...(options.attrs ?? {}) },
    h(
      'div',
      { class: `${CSS}-meter-label` },
      h(
        'span',
        { class: `${CSS}-meter-name`, 'aria-hidden': 'true' },
        options.shortLabel ?? options.label
      ),
      h('span', { class: `${CSS}-meter-text` }, options.text)
    ),
    h(
      'div',
      {
        class: `${CSS}-bar`,
        role: 'progressbar',
        'aria-label': options.label,
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': options.percent === null ? undefined : Math.round(clamped),
        'aria-valuetext': options.valueText,
        'data-level': usageLevel(options.percent)
      },
      fill
    ),
    options.detail ? h('div', { class: `${CSS}-detail` }, options.detail) : null
  );
}

/** A meter for used/total bytes. */
function bytesMeter(
  label: string,
  used: number,
  total: number,
  detail?: string,
  attrs?: { [name: string]: string | number | undefined },
  shortLabel?: string
): HTMLElement {
  const percent = percentOf(used, total);
  return meter({
    label,
    shortLabel,
    percent,
    text: `${formatBytesPair(used, total)} · ${formatPercent(percent)}`,
    valueText: `${formatBytes(used)} of ${formatBytes(total)} (${formatPercent(percent)})`,
    detail,
    attrs: { 'data-used': used, 'data-total': total, ...(attrs ?? {}) }
  });
}

/** One GPU: memory bar, utilisation, temperature and power. */
function gpuCard(gpu: IGpu): HTMLElement {
  const title = `GPU ${gpu.index}: ${gpu.name}`;
  const processes = gpu.processes?.length ?? 0;
  return h(
    'div',
    { class: `${CSS}-device`, 'data-kind': 'gpu', 'data-index': gpu.index },
    h('div', { class: `${CSS}-device-name` }, title),
    bytesMeter(
      `GPU ${gpu.index} memory`,
      gpu.memory_used,
      gpu.memory_total,
      undefined,
      undefined,
      'Memory'
    ),
    meter({
      label: `GPU ${gpu.index} utilisation`,
      shortLabel: 'Utilisation',
      percent: gpu.utilization_gpu,
      text: formatPercent(gpu.utilization_gpu),
      valueText: formatPercent(gpu.utilization_gpu)
    }),
    row('Temperature', formatTemperature(gpu.temperature_c)),
    row('Power', formatPower(gpu.power_draw_w, gpu.power_limit_w)),
    row('Processes', String(processes))
  );
}

/** One TPU: type, device files, whether libtpu is importable. */
function tpuCard(tpu: ITpu): HTMLElement {
  const devices = tpu.devices ?? [];
  return h(
    'div',
    { class: `${CSS}-device`, 'data-kind': 'tpu' },
    h('div', { class: `${CSS}-device-name` }, tpuLabel(tpu.accelerator_type)),
    row('Devices', devices.length ? devices.join(', ') : 'none'),
    row('libtpu', tpu.libtpu ? 'installed' : 'not installed')
  );
}

/** Accelerator section: summary, plain status/error, devices, notes. */
export function acceleratorSection(data: IResources): HTMLElement {
  const accelerators = data.accelerators ?? [];
  const statusText = acceleratorStatusText(data.accelerator_status);
  const notes = data.notes ?? [];
  return section(
    'accelerator',
    'Accelerator',
    h(
      'div',
      {
        class: `${CSS}-summary`,
        'data-accelerator-status': data.accelerator_status
      },
      acceleratorSummary(accelerators)
    ),
    statusText
      ? h(
          'div',
          {
            class: `${CSS}-status`,
            'data-status': data.accelerator_status
          },
          h('span', { class: `${CSS}-status-text` }, statusText),
          data.accelerator_error
            ? h('span', { class: `${CSS}-status-message` }, data.accelerator_error)
            : null
        )
      : null,
    ...accelerators.map(a =>
      a.kind === 'gpu' ? gpuCard(a as IGpu) : a.kind === 'tpu' ? tpuCard(a as ITpu) : null
    ),
    notes.length
      ? h(
          'ul',
          { class: `${CSS}-notes`, 'aria-label': 'Notes' },
          ...notes.map(note => h('li', {}, note))
        )
      : null
  );
}

/** Memory section: working set against the limit, limit source, host RAM. */
export function memorySection(data: IResources): HTMLElement {
  const memory = data.host.memory;
  return section(
    'memory',
    'Memory',
    bytesMeter(
      'Memory used',
      memory.working_set,
      memory.limit,
      `Limit: ${limitSourceLabel(memory.limit_source)}`,
      { 'data-limit-source': memory.limit_source }
    ),
    row('Host RAM', `${formatBytes(memory.total)} total`, {
      'data-bytes': memory.total,
      'data-testid': 'host-ram-total'
    })
  );
}

/** CPU section: load, count and quota. */
export function cpuSection(data: IResources): HTMLElement {
  const cpu = data.host.cpu;
  return section(
    'cpu',
    'CPU',
    meter({
      label: 'CPU',
      percent: cpu.percent,
      text: formatPercent(cpu.percent),
      valueText: formatPercent(cpu.percent),
      detail: `${formatCpus(cpu.count)} · ${formatCpuQuota(cpu.quota)}`
    })
  );
}

/** Disk section: one bar per entry of `host.disk`. */
export function diskSection(data: IResources): HTMLElement {
  const entries = Object.entries(data.host.disk ?? {});
  return section(
    'disk',
    'Disk',
    entries.length === 0
      ? h('div', { class: `${CSS}-detail` }, NOT_AVAILABLE)
      : null,
    ...entries.map(([key, disk]) =>
      bytesMeter(diskLabel(key), disk.used, disk.total, disk.path, {
        'data-disk': key
      })
    )
  );
}

/** The environment line at the top. */
export function environmentLine(data: IResources): HTMLElement {
  const env = data.environment;
  return h(
    'div',
    { class: `${CSS}-environment`, 'data-environment': env?.kind },
    environmentLabel(env?.kind, env?.user)
  );
}

/** Everything the panel shows for a state: numbers, an error, or "Loading…". */
export function renderState(state: ResourceState): HTMLElement[] {
  switch (state.status) {
    case 'loading':
      return [h('div', { class: `${CSS}-loading`, role: 'status' }, 'Loading…')];
    case 'error':
      return [
        h(
          'div',
          { class: `${CSS}-error`, role: 'alert', 'data-failure': state.failure.kind },
          h('div', { class: `${CSS}-error-title` }, fetchFailureText(state.failure)),
          h('div', { class: `${CSS}-detail` }, state.message),
          h('div', { class: `${CSS}-detail` }, 'Retrying…')
        )
      ];
    case 'ok':
      return [
        environmentLine(state.data),
        acceleratorSection(state.data),
        memorySection(state.data),
        cpuSection(state.data),
        diskSection(state.data)
      ];
  }
}
