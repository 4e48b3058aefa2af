/**
 * The sections about the machine: accelerator, memory, CPU and disk.
 */
import * as React from 'react';

import {
  acceleratorStatusText,
  acceleratorSummary,
  diskLabel,
  limitSourceLabel,
  tpuLabel
} from '../format/labels';
import { formatDuration } from '../format/time';
import {
  formatByteRate,
  formatBytes,
  formatCpuQuota,
  formatCpus,
  formatPercent,
  formatPower,
  formatTemperature,
  notAvailable
} from '../format/units';
import {
  IGpuView,
  selectGpus,
  selectMemory,
  selectTpus
} from '../model/selectors';
import { countdownLevel, IOkState } from '../model/state';
import { valueRange } from '../model/series';
import type { IHistory, IResources, ITpu } from '../model/types';
import {
  BytesMeter,
  COUNTDOWN_CLASS,
  CSS,
  Detail,
  IViewOptions,
  Meter,
  Row,
  SectionBody,
  Sparkline
} from './common';

/** One accelerator's card. */
export const DEVICE_CLASS = `${CSS}-device`;
/** The one-line summary of the accelerators ("Tesla T4 x1", "CPU only"). */
export const SUMMARY_CLASS = `${CSS}-summary`;
/** Why no accelerator is listed (data-status: the probe's outcome). */
export const STATUS_CLASS = `${CSS}-status`;

/** One GPU: memory bar, utilisation with its sparkline, temperature and power. */
function GpuCard(props: {
  view: IGpuView;
  history?: IHistory;
  options: IViewOptions;
}): JSX.Element {
  const { gpu, utilization } = props.view;
  const { trans } = props.options;
  return (
    <div
      className={DEVICE_CLASS}
      data-kind="gpu"
      data-index={gpu.index}
      role="group"
      aria-label={trans.__('GPU %1: %2', gpu.index, gpu.name)}
    >
      <div className={`${DEVICE_CLASS}-name`}>
        {trans.__('GPU %1: %2', gpu.index, gpu.name)}
      </div>
      <BytesMeter
        label={trans.__('GPU %1 memory', gpu.index)}
        shortLabel={trans.__('Memory')}
        used={gpu.memory_used}
        total={gpu.memory_total}
        options={props.options}
      />
      <Meter
        label={trans.__('GPU %1 utilisation', gpu.index)}
        shortLabel={trans.__('Utilisation')}
        percent={gpu.utilization_gpu}
        text={formatPercent(trans, gpu.utilization_gpu)}
        valueText={formatPercent(trans, gpu.utilization_gpu)}
      >
        <Sparkline
          label={trans.__('GPU %1 utilisation history', gpu.index)}
          history={props.history}
          values={utilization}
          max={100}
          options={props.options}
          format={v => formatPercent(trans, v)}
        />
      </Meter>
      <Row label={trans.__('Temperature')}>
        {formatTemperature(trans, gpu.temperature_c)}
      </Row>
      <Row label={trans.__('Power')}>
        {formatPower(trans, gpu.power_draw_w, gpu.power_limit_w)}
      </Row>
      <Row label={trans.__('Processes')}>
        {String(gpu.processes?.length ?? 0)}
      </Row>
    </div>
  );
}

/** One TPU: type, device files, whether libtpu is importable. */
function TpuCard(props: { tpu: ITpu; options: IViewOptions }): JSX.Element {
  const { tpu } = props;
  const { trans } = props.options;
  const devices = tpu.devices ?? [];
  const label = tpuLabel(trans, tpu.accelerator_type);
  return (
    <div
      className={DEVICE_CLASS}
      data-kind="tpu"
      role="group"
      aria-label={label}
    >
      <div className={`${DEVICE_CLASS}-name`}>{label}</div>
      <Row label={trans.__('Devices')}>
        {devices.length ? devices.join(', ') : trans.__('none')}
      </Row>
      <Row label="libtpu">
        {tpu.libtpu ? trans.__('installed') : trans.__('not installed')}
      </Row>
    </div>
  );
}

/** The Accelerator section: summary, plain status and error, devices, notes. */
export function AcceleratorBody(props: {
  data: IResources;
  history?: IHistory;
  options: IViewOptions;
}): JSX.Element {
  const { data, history, options } = props;
  const { trans } = options;
  const statusText = acceleratorStatusText(trans, data.accelerator_status);
  const notes = data.notes ?? [];
  // "CPU only" says it all where no accelerator was expected: the probe's
  // message goes on hover, not in a warning box
  const cpuOnly =
    !data.accelerators?.length &&
    (data.accelerator_status === 'none' ||
      data.accelerator_status === 'no-driver');
  const why = [statusText, data.accelerator_error].filter(Boolean).join(': ');
  return (
    <SectionBody section="accelerator">
      <div
        className={SUMMARY_CLASS}
        data-accelerator-status={data.accelerator_status}
        title={cpuOnly ? why : undefined}
      >
        {acceleratorSummary(trans, data.accelerators)}
      </div>
      {statusText && !cpuOnly ? (
        <div className={STATUS_CLASS} data-status={data.accelerator_status}>
          <span className={`${STATUS_CLASS}-text`}>{statusText}</span>
          {data.accelerator_error ? (
            <span className={`${STATUS_CLASS}-message`}>
              {data.accelerator_error}
            </span>
          ) : null}
        </div>
      ) : null}
      {selectGpus(data, history).map(view => (
        <GpuCard
          key={`gpu-${view.gpu.index}`}
          view={view}
          history={history}
          options={options}
        />
      ))}
      {selectTpus(data).map((tpu, i) => (
        <TpuCard key={`tpu-${i}`} tpu={tpu} options={options} />
      ))}
      {notes.length ? (
        <ul className={`${CSS}-notes`} aria-label={trans.__('Notes')}>
          {notes.map((note, i) => (
            <li key={i}>{note}</li>
          ))}
        </ul>
      ) : null}
    </SectionBody>
  );
}

/** The Memory section: working set against the limit, its source, trend, host RAM. */
export function MemoryBody(props: {
  state: IOkState;
  settings: { projectionMinutes: number };
  options: IViewOptions;
}): JSX.Element {
  const { state, options } = props;
  const { trans, units } = options;
  const memory = selectMemory(state, props.settings);
  const format = (v: number) => formatBytes(trans, v, units);
  return (
    <SectionBody section="memory">
      <BytesMeter
        label={trans.__('Memory used')}
        used={memory.workingSet}
        total={memory.limit}
        options={options}
        detail={trans.__('Limit: %1', limitSourceLabel(trans, memory.source))}
        detailTitle={trans.__(
          'The working set (what the out-of-memory killer counts) against the limit read from: %1',
          memory.source
        )}
        attrs={{ 'data-limit-source': memory.source }}
      >
        {/* Scaled to its own peak (plus a margin), to show the shape: the bar shows the limit. */}
        <Sparkline
          label={trans.__('Memory history')}
          history={state.history}
          values={memory.history}
          max={(valueRange(memory.history ?? [])?.max ?? 0) * 1.25}
          options={options}
          format={format}
        />
      </BytesMeter>
      {memory.projection === undefined ? null : memory.projection === null ? (
        <Row
          label={trans.__('Trend')}
          valueProps={{
            'data-testid': 'memory-trend',
            'data-climbing': 'false'
          }}
        >
          {trans.__('not climbing')}
        </Row>
      ) : (
        <Row
          label={trans.__('Trend')}
          valueProps={{
            'data-testid': 'memory-trend',
            'data-climbing': 'true',
            'data-seconds-to-limit': Math.round(
              memory.projection.secondsToLimit
            ),
            'data-level': countdownLevel(memory.projection.secondsToLimit),
            className: COUNTDOWN_CLASS,
            title: trans.__(
              'Straight line through the last %1 of samples (r² %2)',
              formatDuration(trans, options.projectionMinutes * 60),
              memory.projection.r2.toFixed(2)
            )
          }}
        >
          {memory.projection.secondsToLimit <= 0
            ? trans.__(
                'climbing %1, at the limit',
                formatByteRate(trans, memory.projection.bytesPerSecond, units)
              )
            : trans.__(
                'climbing %1: limit in ~%2',
                formatByteRate(trans, memory.projection.bytesPerSecond, units),
                formatDuration(trans, memory.projection.secondsToLimit)
              )}
        </Row>
      )}
      <Row
        label={trans.__('Host RAM')}
        valueProps={{
          'data-bytes': memory.total,
          'data-testid': 'host-ram-total'
        }}
      >
        {trans.__('%1 total', formatBytes(trans, memory.total, units))}
      </Row>
    </SectionBody>
  );
}

/** The CPU section: load, count and quota. */
export function CpuBody(props: {
  data: IResources;
  options: IViewOptions;
}): JSX.Element {
  const { trans } = props.options;
  const cpu = props.data.host.cpu;
  return (
    <SectionBody section="cpu">
      <Meter
        label={trans.__('CPU')}
        percent={cpu.percent}
        text={formatPercent(trans, cpu.percent)}
        valueText={formatPercent(trans, cpu.percent)}
        detail={`${formatCpus(trans, cpu.count)} · ${formatCpuQuota(trans, cpu.quota)}`}
      />
    </SectionBody>
  );
}

/** The Disk section: one bar per entry of `host.disk` (notebook and snapshot dirs). */
export function DiskBody(props: {
  data: IResources;
  options: IViewOptions;
}): JSX.Element {
  const { trans } = props.options;
  const entries = Object.entries(props.data.host.disk ?? {});
  return (
    <SectionBody section="disk">
      {entries.length === 0 ? <Detail>{notAvailable(trans)}</Detail> : null}
      {entries.map(([key, disk]) => (
        <BytesMeter
          key={key}
          label={diskLabel(trans, key)}
          used={disk.used}
          total={disk.total}
          options={props.options}
          detail={disk.path}
          attrs={{ 'data-disk': key }}
        />
      ))}
    </SectionBody>
  );
}
