/**
 * @jest-environment jsdom
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import * as React from 'react';

import {
  AcceleratorBody,
  CpuBody,
  DiskBody,
  MemoryBody
} from '../components/resources';
import { appendSample, emptySeries } from '../model/series';
import type { IOkState } from '../model/state';
import type { IHistory, IResources } from '../model/types';
import { GiB, gpu, resources, T0 } from './fixtures';
import { find, IRendered, NOW, render as mount, viewOptions } from './render';

/** A payload shaped like the server's on a GPU-less machine. */
function payload(overrides: Partial<IResources> = {}): IResources {
  return resources(9 * GiB, {
    environment: { kind: 'local', user: null },
    host: {
      ...resources().host,
      cpu: { percent: 37.5, count: 4, quota: 2 },
      disk: {
        root_dir: {
          path: '/content',
          total: 100 * GiB,
          used: 25 * GiB,
          free: 75 * GiB
        },
        snapshot_dir: {
          path: '/snap',
          total: 10 * GiB,
          used: 9.5 * GiB,
          free: 0.5 * GiB
        }
      }
    },
    accelerator_status: 'no-driver',
    accelerator_error: 'NVML Shared Library Not Found',
    notes: ['COLAB_TPU_ADDR is set but this is a TPU VM'],
    ...overrides
  });
}

function ok(data: IResources, history?: IHistory): IOkState {
  return { status: 'ok', data, receivedAt: NOW, history };
}

const mounted: IRendered[] = [];
function render(element: React.ReactElement): HTMLElement {
  const r = mount(element);
  mounted.push(r);
  return r.container;
}
afterEach(() => mounted.splice(0).forEach(r => r.unmount()));

function meter(root: Element, name: string): HTMLElement {
  return find(root, `[role="meter"][aria-label="${name}"]`);
}

describe('accelerator section', () => {
  it('says "CPU only", with why on hover (no warning box), and the notes', () => {
    const root = render(
      <AcceleratorBody data={payload()} options={viewOptions()} />
    );
    const summary = find(root, '.jp-colab-guard-summary');
    expect(summary.textContent).toBe('CPU only');
    expect(summary.title).toContain('No NVIDIA driver found');
    expect(summary.title).toContain('NVML Shared Library Not Found');
    expect(root.querySelector('.jp-colab-guard-status')).toBeNull();
    expect(
      Array.from(root.querySelectorAll('.jp-colab-guard-notes li')).map(
        li => li.textContent
      )
    ).toEqual(['COLAB_TPU_ADDR is set but this is a TPU VM']);
  });

  it('keeps the warning box where reading the accelerators failed', () => {
    const root = render(
      <AcceleratorBody
        data={payload({
          accelerator_status: 'error',
          accelerator_error: 'NVML: Unknown Error'
        })}
        options={viewOptions()}
      />
    );
    const status = find(root, '.jp-colab-guard-status');
    expect(status.dataset.status).toBe('error');
    expect(status.textContent).toContain('NVML: Unknown Error');
  });

  it('shows each GPU as a labelled group with memory and utilisation meters', () => {
    const data = payload({
      accelerators: [
        gpu(0, {
          memory_used: 10 * GiB,
          memory_total: 40 * GiB,
          utilization_gpu: 87
        }),
        gpu(1, { utilization_gpu: null })
      ],
      accelerator_status: 'ok',
      accelerator_error: null,
      notes: []
    });
    const root = render(
      <AcceleratorBody data={data} options={viewOptions()} />
    );

    expect(find(root, '.jp-colab-guard-summary').textContent).toBe(
      'NVIDIA A100-SXM4-40GB x2'
    );
    expect(root.querySelector('.jp-colab-guard-status')).toBeNull();
    const cards = root.querySelectorAll('[role="group"][data-kind="gpu"]');
    expect(Array.from(cards).map(c => c.getAttribute('aria-label'))).toEqual([
      'GPU 0: NVIDIA A100-SXM4-40GB',
      'GPU 1: NVIDIA A100-SXM4-40GB'
    ]);
    const memory = meter(root, 'GPU 0 memory');
    expect(memory.getAttribute('aria-valuenow')).toBe('25');
    expect(memory.getAttribute('aria-valuetext')).toBe(
      '10.0 GiB of 40.0 GiB (25%)'
    );
    expect(meter(root, 'GPU 0 utilisation').getAttribute('aria-valuenow')).toBe(
      '87'
    );
    // unknown utilisation: no value, said as n/a
    const unknown = meter(root, 'GPU 1 utilisation');
    expect(unknown.hasAttribute('aria-valuenow')).toBe(false);
    expect(unknown.getAttribute('aria-valuetext')).toBe('n/a');
    expect(cards[0].textContent).toContain('61 W / 400 W');
    expect(cards[0].textContent).toContain('33 °C');
    expect(cards[0].textContent).toContain('Processes2');
  });

  it('shows a TPU by type', () => {
    const data = payload({
      accelerators: [
        {
          kind: 'tpu',
          accelerator_type: 'v2-8',
          devices: ['/dev/accel0'],
          libtpu: true
        }
      ],
      accelerator_status: 'ok',
      accelerator_error: null
    });
    const root = render(
      <AcceleratorBody data={data} options={viewOptions()} />
    );
    expect(find(root, '.jp-colab-guard-summary').textContent).toBe('TPU v2-8');
    const card = find(root, '[data-kind="tpu"]');
    expect(card.getAttribute('aria-label')).toBe('TPU v2-8');
    expect(card.textContent).toContain('/dev/accel0');
    expect(card.textContent).toContain('installed');
  });
});

describe('memory, CPU and disk sections', () => {
  it('shows the working set against the limit as an accessible meter', () => {
    const root = render(
      <MemoryBody
        state={ok(payload())}
        settings={{ projectionMinutes: 5 }}
        options={viewOptions()}
      />
    );
    const bar = meter(root, 'Memory used');
    expect(bar.getAttribute('aria-valuemin')).toBe('0');
    expect(bar.getAttribute('aria-valuemax')).toBe('100');
    expect(bar.getAttribute('aria-valuenow')).toBe('75');
    expect(bar.getAttribute('aria-valuetext')).toBe(
      '9.0 GiB of 12.0 GiB (75%)'
    );
    expect(bar.dataset.level).toBe('ok');
    expect(find(bar, '.jp-colab-guard-bar-fill').style.width).toBe('75%');
    expect(root.textContent).toContain('9.0/12.0 GiB · 75%');
    expect(root.textContent).toContain('Limit: container limit');
    const hostRam = find(root, '[data-testid="host-ram-total"]');
    expect(hostRam.dataset.bytes).toBe(String(16 * GiB));
    expect(hostRam.textContent).toBe('16.0 GiB total');
    // no history yet: no trend line
    expect(root.querySelector('[data-testid="memory-trend"]')).toBeNull();
  });

  it('colours a nearly full bar red', () => {
    const data = payload();
    data.host.memory.working_set = 11.5 * GiB;
    const memory = render(
      <MemoryBody
        state={ok(data)}
        settings={{ projectionMinutes: 5 }}
        options={viewOptions()}
      />
    );
    expect(meter(memory, 'Memory used').dataset.level).toBe('critical');
    const disk = render(<DiskBody data={data} options={viewOptions()} />);
    expect(meter(disk, 'Snapshot directory').dataset.level).toBe('critical');
    expect(meter(disk, 'Notebook directory').dataset.level).toBe('ok');
  });

  it('shows CPU load, count and quota', () => {
    const root = render(<CpuBody data={payload()} options={viewOptions()} />);
    expect(meter(root, 'CPU').getAttribute('aria-valuenow')).toBe('38');
    expect(root.textContent).toContain('4 CPUs · quota 2 CPUs');
  });

  it('shows one meter per disk entry with its path', () => {
    const root = render(<DiskBody data={payload()} options={viewOptions()} />);
    const meters = root.querySelectorAll<HTMLElement>('[data-disk]');
    expect(Array.from(meters).map(m => m.dataset.disk)).toEqual([
      'root_dir',
      'snapshot_dir'
    ]);
    expect(
      meter(root, 'Notebook directory').getAttribute('aria-valuenow')
    ).toBe('25');
    expect(meters[0].textContent).toContain('/content');
  });

  it('uses the units of the settings', () => {
    const root = render(
      <MemoryBody
        state={ok(payload())}
        settings={{ projectionMinutes: 5 }}
        options={viewOptions({ units: 'GB' })}
      />
    );
    expect(root.textContent).toContain('9.7/12.9 GB');
  });
});

describe('sparklines and projection', () => {
  /** A series climbing 10 MiB/s for 5 minutes. */
  function climbing(): IHistory {
    let s = emptySeries();
    for (let i = 0; i <= 300; i += 2) {
      s = appendSample(
        s,
        resources(6 * GiB + i * 10 * 1024 ** 2, {
          timestamp: T0 - 300 + i,
          accelerators: [gpu(0, { utilization_gpu: i % 100 })]
        }),
        600
      );
    }
    return s;
  }

  it('draws the GPU utilisation and memory history as inline SVG images', () => {
    const history = climbing();
    const data = resources(9 * GiB, {
      accelerators: [gpu(0)],
      accelerator_status: 'ok'
    });
    const root = render(
      <AcceleratorBody data={data} history={history} options={viewOptions()} />
    );

    const spark = find(root, 'svg[aria-label^="GPU 0 utilisation history"]');
    expect(spark.getAttribute('role')).toBe('img');
    expect(Number(spark.getAttribute('data-points'))).toBe(151);
    expect(spark.getAttribute('aria-label')).toBe(
      'GPU 0 utilisation history, last 10 min: 0% to 98%, now 0%'
    );
    expect(find(spark, 'path').getAttribute('d')).toMatch(
      /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/
    );
    const memory = render(
      <MemoryBody
        state={ok(data, history)}
        settings={{ projectionMinutes: 5 }}
        options={viewOptions()}
      />
    );
    expect(
      memory.querySelector('svg[aria-label^="Memory history, last 10 min"]')
    ).not.toBeNull();
  });

  it('says when there are not enough samples to draw', () => {
    const root = render(
      <AcceleratorBody
        data={resources(GiB, { accelerators: [gpu(0)] })}
        options={viewOptions()}
      />
    );
    expect(find(root, 'svg').getAttribute('aria-label')).toBe(
      'GPU 0 utilisation history, not enough samples yet'
    );
  });

  it('projects the time to the limit when memory climbs', () => {
    const root = render(
      <MemoryBody
        state={ok(resources(9 * GiB), climbing())}
        settings={{ projectionMinutes: 5 }}
        options={viewOptions()}
      />
    );
    const trend = find(root, '[data-testid="memory-trend"]');
    expect(trend.dataset.climbing).toBe('true');
    // 6 GiB + 3000 MiB now = 8.93 GiB; 3.07 GiB left at 10 MiB/s = 314 s
    expect(trend.textContent).toBe('climbing 600.0 MiB/min: limit in ~5 min');
    expect(trend.dataset.level).toBe('warn');
  });

  it('says "not climbing" for flat memory', () => {
    let history = emptySeries();
    for (let i = 0; i < 100; i++) {
      history = appendSample(
        history,
        resources(4 * GiB, { timestamp: T0 + i }),
        600
      );
    }
    const root = render(
      <MemoryBody
        state={ok(resources(4 * GiB), history)}
        settings={{ projectionMinutes: 5 }}
        options={viewOptions()}
      />
    );
    expect(find(root, '[data-testid="memory-trend"]').textContent).toBe(
      'not climbing'
    );
  });
});
