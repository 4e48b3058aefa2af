/**
 * DOM builders for the panel: one function per section, each taking the
 * payloads and returning a fresh element. No state is kept here; the panel
 * patches its live DOM with the result (see `morph.ts`) and handles the
 * buttons by their `data-action` attributes.
 */
import { postmortemKey } from './alerts';
import {
  acceleratorStatusText,
  acceleratorSummary,
  clampPercent,
  countdownLevel,
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
  notebookName,
  percentOf,
  policyLabel,
  policyValue,
  toEpochSeconds,
  tpuLabel,
  usageLevel,
  ByteUnits,
  NOT_AVAILABLE
} from './format';
import type { EndpointState, ResourceState } from './model';
import { projectTimeToLimit } from './projection';
import { sparklinePath, valueRange } from './series';
import type {
  IGpu,
  IHistory,
  IPolicyItem,
  IPostmortem,
  IPostmortems,
  IResources,
  ISessionKernel,
  ISessions,
  ISnapshot,
  ISnapshotList,
  ITpu
} from './types';

/** CSS class prefix of every element built here. */
export const CSS = 'jp-colab-guard';

/** What the views need besides the payloads. */
export interface IViewOptions {
  units: ByteUnits;
  /** Minutes drawn in the sparklines. */
  historyMinutes: number;
  /** Minutes fitted for the memory projection. */
  projectionMinutes: number;
  /** Client clock in ms: countdowns run down by the time since their answer. */
  now: number;
  /** The text most recently copied: its button reads "Copied". */
  copied?: string | null;
  /** Keys of the post-mortems the user dismissed. */
  dismissed?: ReadonlySet<string>;
  /** "key/id" of the snapshots being deleted. */
  deleting?: ReadonlySet<string>;
}

/** Defaults of {@link IViewOptions}. */
export function viewOptions(options: Partial<IViewOptions> = {}): IViewOptions {
  return {
    units: 'GiB',
    historyMinutes: 10,
    projectionMinutes: 5,
    now: Date.now(),
    ...options
  };
}

type Child = Node | string | null | undefined | false;
type Attrs = { [name: string]: string | number | boolean | undefined | null };

/** Create an element with attributes and children (strings become text). */
function h(
  tag: string,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElement {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Create an SVG element. */
function svg(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

function setAttributes(node: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    node.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(node: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.append(
      typeof child === 'string' ? document.createTextNode(child) : child
    );
  }
}

/** A titled section, labelled by its heading. */
function section(
  key: string,
  title: string,
  ...children: (Child | Child[])[]
): HTMLElement {
  const headingId = `${CSS}-${key}-heading`;
  return h(
    'section',
    {
      class: `${CSS}-section`,
      'aria-labelledby': headingId,
      'data-section': key
    },
    h('h3', { class: `${CSS}-heading`, id: headingId }, title),
    ...children
  );
}

/** A "label: value" row; `attrs` land on the value element. */
function row(
  label: string,
  value: string | Node,
  attrs: Attrs = {},
  rowAttrs: Attrs = {}
): HTMLElement {
  return h(
    'div',
    { class: `${CSS}-row`, ...rowAttrs },
    h('span', { class: `${CSS}-row-label` }, label),
    h('span', { class: `${CSS}-row-value`, ...attrs }, value)
  );
}

/** A small text line. */
function detail(text: string, attrs: Attrs = {}): HTMLElement {
  return h('div', { class: `${CSS}-detail`, ...attrs }, text);
}

/** A real <button>, handled by the panel through `data-action`. */
function button(label: string, action: string, attrs: Attrs = {}): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: `jp-Button jp-mod-minimal jp-mod-small ${CSS}-button`,
      'data-action': action,
      ...attrs
    },
    label
  );
}

/** A command to paste, with a copy button. */
function command(
  text: string,
  what: string,
  options: IViewOptions,
  extra: Child = null
): HTMLElement {
  const copied = options.copied === text;
  return h(
    'div',
    { class: `${CSS}-command` },
    h('code', { class: `${CSS}-command-text` }, text),
    button(copied ? 'Copied' : 'Copy', 'copy', {
      'data-text': text,
      'aria-label': `Copy ${what}: ${text}`,
      title: `Copy ${text}`,
      'data-copied': copied ? 'true' : undefined
    }),
    extra
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
  /** Hover text of the secondary line. */
  detailTitle?: string;
  /** Extra attributes on the meter root (data-* for tests). */
  attrs?: Attrs;
  /** Drawn under the bar (a sparkline). */
  after?: Child;
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
        'aria-valuenow':
          options.percent === null ? undefined : Math.round(clamped),
        'aria-valuetext': options.valueText,
        'data-level': usageLevel(options.percent)
      },
      fill
    ),
    options.detail
      ? detail(options.detail, { title: options.detailTitle })
      : null,
    options.after
  );
}

/** A meter for used/total bytes. */
function bytesMeter(
  label: string,
  used: number,
  total: number,
  units: ByteUnits,
  more: Partial<IMeterOptions> = {}
): HTMLElement {
  const percent = percentOf(used, total);
  return meter({
    label,
    percent,
    text: `${formatBytesPair(used, total, units)} · ${formatPercent(percent)}`,
    valueText: `${formatBytes(used, units)} of ${formatBytes(total, units)} (${formatPercent(percent)})`,
    ...more,
    attrs: { 'data-used': used, 'data-total': total, ...(more.attrs ?? {}) }
  });
}

/** Width and height of a sparkline's viewBox. */
const SPARK_W = 200;
const SPARK_H = 24;

/**
 * An inline SVG sparkline of `values` over the last `minutes`, 0 at the
 * bottom and `max` at the top; its accessible name sums it up.
 */
function sparkline(
  label: string,
  history: IHistory | undefined,
  values: (number | null)[] | undefined,
  max: number | null | undefined,
  minutes: number,
  format: (value: number) => string
): SVGElement {
  const t = history?.t ?? [];
  const end = t.length ? t[t.length - 1] : 0;
  const d =
    values && max && max > 0
      ? sparklinePath(t, values, {
          width: SPARK_W,
          height: SPARK_H,
          start: end - minutes * 60,
          end,
          max
        })
      : '';
  const range = values ? valueRange(values) : null;
  const summary =
    d && range
      ? `last ${formatDuration(minutes * 60)}: ${format(range.min)} to ${format(range.max)}, now ${format(lastValue(values!) ?? range.max)}`
      : 'not enough samples yet';
  return svg(
    'svg',
    {
      class: `${CSS}-sparkline`,
      role: 'img',
      'aria-label': `${label}, ${summary}`,
      viewBox: `0 0 ${SPARK_W} ${SPARK_H}`,
      preserveAspectRatio: 'none',
      'data-points': d ? d.split(/[ML]/).length - 1 : 0
    },
    svg('title', {}, `${label}, ${summary}`),
    svg('line', {
      class: `${CSS}-sparkline-base`,
      x1: 0,
      y1: SPARK_H - 0.5,
      x2: SPARK_W,
      y2: SPARK_H - 0.5
    }),
    d
      ? svg('path', {
          class: `${CSS}-sparkline-line`,
          d,
          'vector-effect': 'non-scaling-stroke'
        })
      : null
  );
}

function lastValue(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) {
      return v;
    }
  }
  return null;
}

/** One GPU: memory bar, utilisation with its sparkline, temperature and power. */
function gpuCard(
  gpu: IGpu,
  position: number,
  history: IHistory | undefined,
  options: IViewOptions
): HTMLElement {
  const title = `GPU ${gpu.index}: ${gpu.name}`;
  const processes = gpu.processes?.length ?? 0;
  return h(
    'div',
    {
      class: `${CSS}-device`,
      'data-kind': 'gpu',
      'data-index': gpu.index,
      'data-key': `gpu-${gpu.index}`
    },
    h('div', { class: `${CSS}-device-name` }, title),
    bytesMeter(
      `GPU ${gpu.index} memory`,
      gpu.memory_used,
      gpu.memory_total,
      options.units,
      {
        shortLabel: 'Memory'
      }
    ),
    meter({
      label: `GPU ${gpu.index} utilisation`,
      shortLabel: 'Utilisation',
      percent: gpu.utilization_gpu,
      text: formatPercent(gpu.utilization_gpu),
      valueText: formatPercent(gpu.utilization_gpu),
      after: sparkline(
        `GPU ${gpu.index} utilisation history`,
        history,
        history?.gpu_utilization[position],
        100,
        options.historyMinutes,
        v => formatPercent(v)
      )
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
export function acceleratorSection(
  data: IResources,
  history?: IHistory,
  opts: Partial<IViewOptions> = {}
): HTMLElement {
  const options = viewOptions(opts);
  const accelerators = data.accelerators ?? [];
  const statusText = acceleratorStatusText(data.accelerator_status);
  const notes = data.notes ?? [];
  let gpuPosition = 0;
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
          { class: `${CSS}-status`, 'data-status': data.accelerator_status },
          h('span', { class: `${CSS}-status-text` }, statusText),
          data.accelerator_error
            ? h(
                'span',
                { class: `${CSS}-status-message` },
                data.accelerator_error
              )
            : null
        )
      : null,
    accelerators.map(a =>
      a.kind === 'gpu'
        ? gpuCard(a as IGpu, gpuPosition++, history, options)
        : a.kind === 'tpu'
          ? tpuCard(a as ITpu)
          : null
    ),
    notes.length
      ? h(
          'ul',
          { class: `${CSS}-notes`, 'aria-label': 'Notes' },
          notes.map(note => h('li', {}, note))
        )
      : null
  );
}

/** The memory trend line: climbing and when it reaches the limit, or not climbing. */
function memoryTrend(
  data: IResources,
  history: IHistory | undefined,
  options: IViewOptions
): HTMLElement | null {
  if (!history || history.t.length < 2) {
    return null;
  }
  const memory = data.host.memory;
  const projection = projectTimeToLimit(
    history.t,
    history.memory_working_set,
    memory.limit,
    {
      windowSeconds: options.projectionMinutes * 60
    }
  );
  if (!projection) {
    return row('Trend', 'not climbing', {
      'data-testid': 'memory-trend',
      'data-climbing': 'false'
    });
  }
  const seconds = projection.secondsToLimit;
  const text =
    seconds <= 0
      ? `climbing ${formatByteRate(projection.bytesPerSecond, options.units)}, at the limit`
      : `climbing ${formatByteRate(projection.bytesPerSecond, options.units)}: limit in ~${formatDuration(seconds)}`;
  return row('Trend', text, {
    'data-testid': 'memory-trend',
    'data-climbing': 'true',
    'data-seconds-to-limit': Math.round(seconds),
    'data-level': countdownLevel(seconds),
    class: `${CSS}-row-value ${CSS}-countdown`,
    title: `Straight line through the last ${formatDuration(options.projectionMinutes * 60)} of samples (r² ${projection.r2.toFixed(2)})`
  });
}

/** Memory section: working set against the limit, its source, trend, host RAM. */
export function memorySection(
  data: IResources,
  history?: IHistory,
  opts: Partial<IViewOptions> = {}
): HTMLElement {
  const options = viewOptions(opts);
  const memory = data.host.memory;
  return section(
    'memory',
    'Memory',
    bytesMeter('Memory used', memory.working_set, memory.limit, options.units, {
      detail: `Limit: ${limitSourceLabel(memory.limit_source)}`,
      detailTitle: `The working set (what the out-of-memory killer counts) against the limit read from: ${memory.limit_source}`,
      attrs: { 'data-limit-source': memory.limit_source },
      // Scaled to its own peak (plus a margin), to show the shape: the bar shows the limit.
      after: sparkline(
        'Memory history',
        history,
        history?.memory_working_set,
        (valueRange(history?.memory_working_set ?? [])?.max ?? 0) * 1.25,
        options.historyMinutes,
        v => formatBytes(v, options.units)
      )
    }),
    memoryTrend(data, history, options),
    row('Host RAM', `${formatBytes(memory.total, options.units)} total`, {
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

/** Disk section: one bar per entry of `host.disk` (notebook and snapshot dirs). */
export function diskSection(
  data: IResources,
  opts: Partial<IViewOptions> = {}
): HTMLElement {
  const options = viewOptions(opts);
  const entries = Object.entries(data.host.disk ?? {});
  return section(
    'disk',
    'Disk',
    entries.length === 0 ? detail(NOT_AVAILABLE) : null,
    entries.map(([key, disk]) =>
      bytesMeter(diskLabel(key), disk.used, disk.total, options.units, {
        detail: disk.path,
        attrs: { 'data-disk': key }
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

/** Seconds left on a countdown, run down by the time since its answer. */
function remaining(
  seconds: number | null | undefined,
  receivedAt: number,
  now: number
): number | null {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    return null;
  }
  return Math.max(0, seconds - Math.max(0, now - receivedAt) / 1000);
}

/** A countdown element: mm:ss, coloured by how little is left. */
function countdown(seconds: number, label: string, title: string): HTMLElement {
  return h(
    'span',
    {
      class: `${CSS}-countdown`,
      'data-level': countdownLevel(seconds),
      'data-seconds': Math.round(seconds),
      role: 'timer',
      'aria-label': `${label}: ${formatCountdown(seconds)}`,
      title
    },
    formatCountdown(seconds)
  );
}

/** The policy setting that governs a countdown reason, for its hover text. */
function governingPolicy(
  reason: string | null,
  policy: ISessions['policy']
): string {
  const name =
    reason === 'idle-culling'
      ? 'cull_idle_timeout'
      : reason === 'idle-timeout'
        ? 'idle_timeout'
        : reason === 'max-lifetime'
          ? 'max_lifetime'
          : null;
  const item = name ? policy?.[name] : undefined;
  return item && name
    ? `${policyLabel(name)} ${policyValue(item)} (${item.source})`
    : '';
}

/** Why a kernel has no countdown, in words. */
function sparedReason(
  kernel: ISessionKernel,
  policy: ISessions['policy']
): string {
  const timeout = policy?.cull_idle_timeout;
  if (!timeout || timeout.value === null) {
    return `Idle kernels are not culled${timeout ? ` (${timeout.source} is not set)` : ''}`;
  }
  if (kernel.connections > 0 && policy.cull_connected?.value === false) {
    return `Not culled while a tab is connected (${policy.cull_connected.source} is off)`;
  }
  if (kernel.execution_state === 'busy' && policy.cull_busy?.value === false) {
    return `Not culled while busy (${policy.cull_busy.source} is off)`;
  }
  return 'No countdown';
}

/** One kernel: notebook, state, memory, GPU memory and its countdown. */
function kernelItem(
  kernel: ISessionKernel,
  sessions: ISessions,
  receivedAt: number,
  options: IViewOptions
): HTMLElement {
  const left = remaining(kernel.seconds_to_cull, receivedAt, options.now);
  const name = notebookName(kernel.path);
  const state = kernel.execution_state ?? 'unknown';
  const usage = [
    `RAM ${formatBytes(kernel.rss, options.units)}`,
    kernel.gpu_memory !== null && kernel.gpu_memory !== undefined
      ? `GPU ${formatBytes(kernel.gpu_memory, options.units)}`
      : null
  ]
    .filter(Boolean)
    .join(' · ');
  const reason = cullReasonText(kernel.cull_reason);
  const policyText = governingPolicy(kernel.cull_reason, sessions.policy);
  return h(
    'li',
    {
      class: `${CSS}-kernel`,
      'data-key': `kernel-${kernel.id}`,
      'data-kernel-id': kernel.id,
      'aria-label': `Kernel of ${name}`
    },
    h(
      'div',
      { class: `${CSS}-kernel-head` },
      h(
        'span',
        { class: `${CSS}-kernel-name`, title: kernel.path ?? kernel.id },
        name
      ),
      h('span', { class: `${CSS}-kernel-state`, 'data-state': state }, state)
    ),
    h(
      'div',
      {
        class: `${CSS}-detail`,
        title: `${kernel.name} · pid ${kernel.pid ?? NOT_AVAILABLE}`
      },
      usage
    ),
    left === null
      ? h(
          'div',
          { class: `${CSS}-kernel-countdown`, 'data-countdown': 'none' },
          detail(sparedReason(kernel, sessions.policy))
        )
      : h(
          'div',
          {
            class: `${CSS}-kernel-countdown`,
            'data-countdown': kernel.cull_reason ?? 'unknown'
          },
          h('span', { class: `${CSS}-row-label` }, `${capitalize(reason)} in `),
          countdown(
            left,
            `${capitalize(reason)} of ${name}`,
            policyText || reason
          )
        )
  );
}

/** "1 variable", "3 variables". */
function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The server's own countdowns. */
function serverCountdowns(
  sessions: ISessions,
  receivedAt: number,
  options: IViewOptions
): HTMLElement[] {
  const server = sessions.server ?? ({} as ISessions['server']);
  const policy = sessions.policy ?? {};
  const rows: HTMLElement[] = [];
  const add = (
    label: string,
    seconds: number | null | undefined,
    key: string,
    policyName: string
  ) => {
    const left = remaining(seconds, receivedAt, options.now);
    if (left === null) {
      return;
    }
    const item = policy[policyName];
    const title = item
      ? `${policyLabel(policyName)} ${policyValue(item)} (${item.source})`
      : label;
    rows.push(
      row(
        label,
        countdown(left, label, title),
        {},
        { 'data-server-countdown': key }
      )
    );
  };
  add(
    'Server shuts down in',
    server.seconds_to_shutdown,
    'shutdown',
    'shutdown_no_activity_timeout'
  );
  add(
    'Idle disconnect in',
    server.seconds_to_idle_disconnect,
    'idle',
    'idle_timeout'
  );
  add(
    'Runtime ends in',
    server.seconds_to_lifetime_end,
    'lifetime',
    'max_lifetime'
  );
  return rows;
}

/** The effective policy, each item with its source on hover. */
function policyList(policy: ISessions['policy']): HTMLElement | null {
  const entries = Object.entries(policy ?? {}) as [string, IPolicyItem][];
  if (!entries.length) {
    return null;
  }
  return h(
    'details',
    { class: `${CSS}-policy` },
    h('summary', {}, 'Policy'),
    h(
      'ul',
      { class: `${CSS}-policy-list`, 'aria-label': 'Policy' },
      entries.map(([name, item]) =>
        h(
          'li',
          {
            title: `Set by ${item.source}`,
            'data-policy': name,
            'data-source': item.source
          },
          h('span', { class: `${CSS}-row-label` }, policyLabel(name)),
          ' ',
          h('span', { class: `${CSS}-row-value` }, policyValue(item))
        )
      )
    )
  );
}

/** Cost so far, where a rate is configured. */
function costBlock(sessions: ISessions): HTMLElement | null {
  const cost = sessions.cost;
  if (!cost) {
    return null;
  }
  const share =
    cost.accrued > 0
      ? ` (${formatPercent((cost.accrued_low_utilization / cost.accrued) * 100)})`
      : '';
  return h(
    'div',
    { class: `${CSS}-cost`, 'data-testid': 'cost' },
    row('Cost so far', formatMoney(cost.accrued, cost.unit), {
      title: `${formatMoney(cost.rate, cost.unit)}/h for "${cost.pattern}" over ${formatDuration(cost.hours * 3600)}`
    }),
    row(
      'At low GPU utilisation',
      `${formatMoney(cost.accrued_low_utilization, cost.unit)}${share}`,
      {
        'data-level': cost.accrued_low_utilization > 0 ? 'warn' : 'ok'
      }
    )
  );
}

/**
 * The server's advice (low utilisation, ...). Its "memory-growth" warning is
 * left out: the Memory section's trend line projects the same from the same
 * samples, and two projections that differ would only confuse.
 */
function adviceList(sessions: ISessions): HTMLElement | null {
  const warnings = (sessions.warnings ?? []).filter(
    w => w.kind !== 'memory-growth'
  );
  if (!warnings.length) {
    return null;
  }
  return h(
    'ul',
    { class: `${CSS}-advice`, 'aria-label': 'Advice' },
    warnings.map(w =>
      h(
        'li',
        { 'data-kind': w.kind, 'data-key': `advice-${w.kind}` },
        h('span', { class: `${CSS}-advice-message` }, w.message)
      )
    )
  );
}

/** A section's line for an endpoint that failed. */
function endpointError(state: { failure: any; message: string }): HTMLElement {
  return h(
    'div',
    { class: `${CSS}-error`, 'data-failure': state.failure.kind },
    h('div', { class: `${CSS}-error-title` }, fetchFailureText(state.failure)),
    detail(state.message)
  );
}

/**
 * What an endpoint's section shows before there is data: nothing (the server has no such
 * endpoint), "Loading…", or the failure; undefined once the data is there.
 */
function pendingSection<T>(
  state: EndpointState<T> | undefined,
  key: string,
  title: string
): HTMLElement | null | undefined {
  if (!state || state.status === 'absent') {
    return null;
  }
  if (state.status === 'loading') {
    return section(key, title, detail('Loading…'));
  }
  if (state.status === 'error') {
    return section(key, title, endpointError(state));
  }
  return undefined;
}

/**
 * Sessions section: the server's countdowns, each kernel, cost and advice,
 * the policy; null (hidden) where the server has no sessions endpoint.
 */
export function sessionsSection(
  state: EndpointState<ISessions> | undefined,
  opts: Partial<IViewOptions> = {}
): HTMLElement | null {
  const options = viewOptions(opts);
  const pending = pendingSection(state, 'sessions', 'Sessions');
  if (pending !== undefined || state?.status !== 'ok') {
    return pending ?? null;
  }
  const sessions = state.data;
  const kernels = sessions.kernels ?? [];
  return section(
    'sessions',
    'Sessions',
    serverCountdowns(sessions, state.receivedAt, options),
    kernels.length
      ? h(
          'ul',
          { class: `${CSS}-kernels`, 'aria-label': 'Kernels' },
          kernels.map(k => kernelItem(k, sessions, state.receivedAt, options))
        )
      : detail('No kernel is running.'),
    costBlock(sessions),
    adviceList(sessions),
    policyList(sessions.policy)
  );
}

/** Local time of an epoch, with the date when it is not today. */
function clockTime(epochSeconds: number, now: number): string {
  const date = new Date(epochSeconds * 1000);
  const time = date.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit'
  });
  return date.toDateString() === new Date(now).toDateString()
    ? time
    : `${date.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/** "14:02 · 5 min ago". */
function when(value: number | string | null | undefined, now: number): string {
  const epoch = toEpochSeconds(value);
  if (epoch === null) {
    return NOT_AVAILABLE;
  }
  return `${clockTime(epoch, now)} · ${formatAgo(now / 1000 - epoch)}`;
}

/** "x (ndarray), df (DataFrame) and 3 more". */
function variablesText(
  variables: { [name: string]: string },
  most = 6
): string {
  const entries = Object.entries(variables ?? {});
  if (!entries.length) {
    return 'no variables';
  }
  const shown = entries
    .slice(0, most)
    .map(([name, type]) => `${name} (${type})`);
  const more =
    entries.length > most ? ` and ${entries.length - most} more` : '';
  return `${shown.join(', ')}${more}`;
}

/** One snapshot: time, size, variables, restore command; copy and delete. */
function snapshotItem(snapshot: ISnapshot, options: IViewOptions): HTMLElement {
  const id = `${snapshot.key}/${snapshot.id}`;
  const count = Object.keys(snapshot.variables ?? {}).length;
  const skipped = Object.entries(snapshot.skipped ?? {});
  const deleting = options.deleting?.has(id) ?? false;
  return h(
    'li',
    {
      class: `${CSS}-snapshot`,
      'data-key': `snapshot-${id}`,
      'data-snapshot-key': snapshot.key,
      'data-snapshot-id': snapshot.id
    },
    h(
      'div',
      { class: `${CSS}-row` },
      h(
        'span',
        { class: `${CSS}-snapshot-time`, title: snapshot.created },
        when(snapshot.created_ts ?? snapshot.created, options.now)
      ),
      h(
        'span',
        { class: `${CSS}-row-value` },
        formatBytes(snapshot.size, options.units)
      )
    ),
    h(
      'div',
      {
        class: `${CSS}-detail ${CSS}-snapshot-variables`,
        title: Object.entries(snapshot.variables ?? {})
          .map(([n, t]) => `${n}: ${t}`)
          .join('\n')
      },
      `${plural(count, 'variable')}: ${variablesText(snapshot.variables)}`
    ),
    skipped.length
      ? detail(
          `Not saved: ${skipped.map(([n, why]) => `${n} (${why})`).join(', ')}`,
          {
            class: `${CSS}-detail ${CSS}-snapshot-skipped`
          }
        )
      : null,
    command(
      snapshot.restore,
      'restore command',
      options,
      button(deleting ? 'Deleting…' : 'Delete', 'delete', {
        'data-snapshot-key': snapshot.key,
        'data-snapshot-id': snapshot.id,
        'data-notebook': notebookName(snapshot.notebook ?? snapshot.key),
        'aria-label': `Delete snapshot ${snapshot.id} of ${notebookName(snapshot.notebook ?? snapshot.key)}`,
        disabled: deleting
      })
    )
  );
}

/**
 * Snapshots section: per notebook, newest first; null (hidden) where the
 * server has no snapshots endpoint.
 */
export function snapshotsSection(
  state: EndpointState<ISnapshotList> | undefined,
  opts: Partial<IViewOptions> = {}
): HTMLElement | null {
  const options = viewOptions(opts);
  const pending = pendingSection(state, 'snapshots', 'Snapshots');
  if (pending !== undefined || state?.status !== 'ok') {
    return pending ?? null;
  }
  const groups = new Map<string, ISnapshot[]>();
  for (const snapshot of state.data.snapshots) {
    const list = groups.get(snapshot.key) ?? [];
    list.push(snapshot);
    groups.set(snapshot.key, list);
  }
  return section(
    'snapshots',
    'Snapshots',
    groups.size === 0
      ? detail(
          'No snapshot yet. The kernel saves one near the memory limit; %guard snapshot saves one now.',
          {
            'data-testid': 'no-snapshots'
          }
        )
      : null,
    Array.from(groups.entries()).map(([key, list]) =>
      h(
        'div',
        {
          class: `${CSS}-snapshot-group`,
          'data-key': `group-${key}`,
          'data-notebook-key': key
        },
        h(
          'h4',
          { class: `${CSS}-subheading`, title: list[0].notebook ?? key },
          notebookName(list[0].notebook ?? key)
        ),
        h(
          'ul',
          {
            class: `${CSS}-snapshots`,
            'aria-label': `Snapshots of ${notebookName(list[0].notebook ?? key)}`
          },
          list.map(s => snapshotItem(s, options))
        )
      )
    ),
    detail(`Saved in ${state.data.snapshot_dir}`, {
      class: `${CSS}-detail ${CSS}-snapshot-dir`
    })
  );
}

/** The post-mortems to show as banners: newest first, not dismissed, at most `most`. */
export function postmortemsToShow(
  postmortems: IPostmortems | null | undefined,
  dismissed: ReadonlySet<string> = new Set(),
  most = 3
): IPostmortem[] {
  if (!postmortems) {
    return [];
  }
  const all = [
    ...(postmortems.kernels ?? []),
    ...(postmortems.previous_session ?? [])
  ];
  return all
    .filter(pm => !dismissed.has(postmortemKey(pm)))
    .sort(
      (a, b) =>
        (toEpochSeconds(b.died_at) ?? 0) - (toEpochSeconds(a.died_at) ?? 0)
    )
    .slice(0, most);
}

/** A banner for a kernel that died: why, and the snapshot to restore. */
function postmortemBanner(pm: IPostmortem, options: IViewOptions): HTMLElement {
  const key = postmortemKey(pm);
  const name = notebookName(pm.notebook);
  const headline = deathHeadline(pm, options.units);
  const facts = [
    when(pm.died_at, options.now),
    pm.previous_session ? 'previous server session' : null,
    pm.cause === 'oom-killer'
      ? pm.confidence === 'certain'
        ? "the container's OOM-kill counter rose"
        : 'it was near the limit when it was killed'
      : null,
    typeof pm.peak_percent === 'number'
      ? `peak ${formatPercent(pm.peak_percent)} of the limit`
      : null
  ].filter(Boolean);
  const snapshot = pm.snapshot;
  return h(
    'div',
    {
      class: `${CSS}-postmortem`,
      role: 'alert',
      'data-key': `pm-${key}`,
      'data-cause': pm.cause,
      'data-confidence': pm.confidence
    },
    h(
      'div',
      { class: `${CSS}-postmortem-title` },
      `Kernel of ${name} died: ${headline}`
    ),
    detail(facts.join(' · ')),
    snapshot
      ? [
          detail(
            `Snapshot of ${when(snapshot.created_ts ?? snapshot.created, options.now)} (${plural(Object.keys(snapshot.variables ?? {}).length, 'variable')}). In the new kernel, run:`
          ),
          command(snapshot.restore, 'restore command', options)
        ]
      : detail('No snapshot was saved before it died.'),
    h(
      'div',
      { class: `${CSS}-postmortem-actions` },
      button('Dismiss', 'dismiss', {
        'data-postmortem': key,
        'aria-label': `Dismiss the post-mortem of ${name}`
      })
    )
  );
}

/** Everything the panel shows for a state: numbers, an error, or "Loading…". */
export function renderState(
  state: ResourceState,
  opts: Partial<IViewOptions> = {}
): HTMLElement[] {
  const options = viewOptions(opts);
  switch (state.status) {
    case 'loading':
      return [
        h('div', { class: `${CSS}-loading`, role: 'status' }, 'Loading…')
      ];
    case 'error':
      return [
        h(
          'div',
          {
            class: `${CSS}-error`,
            role: 'alert',
            'data-failure': state.failure.kind
          },
          h(
            'div',
            { class: `${CSS}-error-title` },
            fetchFailureText(state.failure)
          ),
          detail(state.message),
          detail('Retrying…')
        )
      ];
    case 'ok': {
      const postmortems =
        state.postmortems?.status === 'ok' ? state.postmortems.data : null;
      const banners = postmortemsToShow(postmortems, options.dismissed);
      const out: (HTMLElement | null)[] = [
        ...banners.map(pm => postmortemBanner(pm, options)),
        environmentLine(state.data),
        acceleratorSection(state.data, state.history, options),
        memorySection(state.data, state.history, options),
        sessionsSection(state.sessions, options),
        cpuSection(state.data),
        diskSection(state.data, options),
        snapshotsSection(state.snapshots, options)
      ];
      return out.filter((e): e is HTMLElement => e !== null);
    }
  }
}
