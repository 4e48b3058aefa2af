/**
 * @jest-environment jsdom
 */
import { describe, expect, it } from '@jest/globals';

import type { ResourceState } from '../model';
import type { IGpu, IResources } from '../types';
import { renderState } from '../view';

const GiB = 1024 ** 3;

/** A payload shaped like the server's on a GPU-less machine. */
function payload(overrides: Partial<IResources> = {}): IResources {
  return {
    timestamp: 1700000000.5,
    sample_interval: 1.0,
    environment: { kind: 'local', user: null },
    host: {
      memory: {
        total: 16 * GiB,
        used: 6 * GiB,
        available: 10 * GiB,
        limit: 12 * GiB,
        limit_source: 'cgroup-v2',
        working_set: 9 * GiB,
        percent: 75
      },
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
    accelerators: [],
    accelerator_status: 'no-driver',
    accelerator_error: 'NVML Shared Library Not Found',
    notes: ['COLAB_TPU_ADDR is set but this is a TPU VM'],
    ...overrides
  };
}

function gpu(index: number, used: number, utilization: number | null): IGpu {
  return {
    kind: 'gpu',
    index,
    name: 'NVIDIA A100-SXM4-40GB',
    uuid: `GPU-${index}`,
    memory_total: 40 * GiB,
    memory_used: used,
    utilization_gpu: utilization,
    utilization_memory: null,
    temperature_c: 41,
    power_draw_w: 60.4,
    power_limit_w: 400,
    processes: [{ pid: 42, used_memory: used }]
  };
}

/** Render a state into a detached container. */
function render(state: ResourceState): HTMLElement {
  const root = document.createElement('div');
  root.append(...renderState(state));
  return root;
}

function ok(data: IResources): ResourceState {
  return { status: 'ok', data, receivedAt: 0 };
}

function section(root: HTMLElement, key: string): HTMLElement {
  const node = root.querySelector<HTMLElement>(
    `section[data-section="${key}"]`
  );
  if (!node) {
    throw new Error(`no ${key} section`);
  }
  return node;
}

function bar(root: Element, name: string): HTMLElement {
  const node = root.querySelector<HTMLElement>(
    `[role="progressbar"][aria-label="${name}"]`
  );
  if (!node) {
    throw new Error(`no progress bar named ${name}`);
  }
  return node;
}

describe('renderState', () => {
  it('renders the four sections, each labelled by its heading', () => {
    const root = render(ok(payload()));

    const headings = Array.from(root.querySelectorAll('section h3')).map(
      h => h.textContent
    );
    expect(headings).toEqual(['Accelerator', 'Memory', 'CPU', 'Disk']);
    for (const node of Array.from(root.querySelectorAll('section'))) {
      expect(node.getAttribute('aria-labelledby')).toBe(
        node.querySelector('h3')?.id
      );
    }
    expect(root.querySelector('.jp-colab-guard-environment')?.textContent).toBe(
      'Local'
    );
  });

  it('shows the working set against the limit as an accessible bar', () => {
    const root = render(ok(payload()));
    const memory = section(root, 'memory');

    const memoryBar = bar(memory, 'Memory used');
    expect(memoryBar.getAttribute('aria-valuemin')).toBe('0');
    expect(memoryBar.getAttribute('aria-valuemax')).toBe('100');
    expect(memoryBar.getAttribute('aria-valuenow')).toBe('75');
    expect(memoryBar.getAttribute('aria-valuetext')).toBe(
      '9.0 GiB of 12.0 GiB (75%)'
    );
    expect(memoryBar.dataset.level).toBe('ok');
    expect(
      (memoryBar.querySelector('.jp-colab-guard-bar-fill') as HTMLElement).style
        .width
    ).toBe('75%');
    expect(memory.textContent).toContain('9.0/12.0 GiB · 75%');
    expect(memory.textContent).toContain('Limit: container limit');

    const hostRam = memory.querySelector('[data-testid="host-ram-total"]');
    expect(hostRam?.getAttribute('data-bytes')).toBe(String(16 * GiB));
    expect(hostRam?.textContent).toBe('16.0 GiB total');
  });

  it('colours a nearly full bar as critical', () => {
    const data = payload();
    data.host.memory.working_set = 11.5 * GiB;
    const root = render(ok(data));

    expect(bar(root, 'Memory used').dataset.level).toBe('critical');
    expect(bar(root, 'Snapshot directory').dataset.level).toBe('critical');
    expect(bar(root, 'Notebook directory').dataset.level).toBe('ok');
  });

  it('shows CPU load, count and quota', () => {
    const cpu = section(render(ok(payload())), 'cpu');

    expect(bar(cpu, 'CPU').getAttribute('aria-valuenow')).toBe('38');
    expect(cpu.textContent).toContain('4 CPUs · quota 2 CPUs');
  });

  it('shows one bar per disk entry with its path', () => {
    const disk = section(render(ok(payload())), 'disk');

    const meters = disk.querySelectorAll('[data-disk]');
    expect(Array.from(meters).map(m => m.getAttribute('data-disk'))).toEqual([
      'root_dir',
      'snapshot_dir'
    ]);
    expect(bar(disk, 'Notebook directory').getAttribute('aria-valuenow')).toBe(
      '25'
    );
    expect(meters[0].textContent).toContain('/content');
  });

  it('says "CPU only" and why, with the server message and notes', () => {
    const accelerator = section(render(ok(payload())), 'accelerator');

    expect(
      accelerator.querySelector('.jp-colab-guard-summary')?.textContent
    ).toBe('CPU only');
    const status = accelerator.querySelector('.jp-colab-guard-status');
    expect(status?.getAttribute('data-status')).toBe('no-driver');
    expect(status?.textContent).toContain('No NVIDIA driver found');
    expect(status?.textContent).toContain('NVML Shared Library Not Found');
    expect(
      Array.from(accelerator.querySelectorAll('.jp-colab-guard-notes li')).map(
        li => li.textContent
      )
    ).toEqual(['COLAB_TPU_ADDR is set but this is a TPU VM']);
  });

  it('shows each GPU with memory and utilisation', () => {
    const data = payload({
      accelerators: [gpu(0, 10 * GiB, 87), gpu(1, 0, null)],
      accelerator_status: 'ok',
      accelerator_error: null,
      notes: []
    });
    const accelerator = section(render(ok(data)), 'accelerator');

    expect(
      accelerator.querySelector('.jp-colab-guard-summary')?.textContent
    ).toBe('NVIDIA A100-SXM4-40GB x2');
    expect(accelerator.querySelector('.jp-colab-guard-status')).toBeNull();
    expect(accelerator.querySelectorAll('[data-kind="gpu"]')).toHaveLength(2);
    expect(bar(accelerator, 'GPU 0 memory').getAttribute('aria-valuenow')).toBe(
      '25'
    );
    expect(
      bar(accelerator, 'GPU 0 utilisation').getAttribute('aria-valuenow')
    ).toBe('87');
    // unknown utilisation: no value, said as n/a
    const unknown = bar(accelerator, 'GPU 1 utilisation');
    expect(unknown.hasAttribute('aria-valuenow')).toBe(false);
    expect(unknown.getAttribute('aria-valuetext')).toBe('n/a');
    expect(accelerator.textContent).toContain('60 W / 400 W');
    expect(accelerator.textContent).toContain('41 °C');
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
    const accelerator = section(render(ok(data)), 'accelerator');

    expect(
      accelerator.querySelector('.jp-colab-guard-summary')?.textContent
    ).toBe('TPU v2-8');
    expect(
      accelerator.querySelector('[data-kind="tpu"]')?.textContent
    ).toContain('/dev/accel0');
  });

  it('replaces every figure by the failure when the server is unreachable', () => {
    const root = render({
      status: 'error',
      failure: { kind: 'network' },
      message: 'Failed to fetch'
    });

    const alert = root.querySelector('[role="alert"]');
    expect(alert?.textContent).toContain('Server unreachable');
    expect(alert?.textContent).toContain('Failed to fetch');
    expect(root.querySelectorAll('[role="progressbar"]')).toHaveLength(0);
    expect(root.querySelectorAll('section')).toHaveLength(0);
  });

  it('says it is loading before the first answer', () => {
    const root = render({ status: 'loading' });

    expect(root.querySelector('[role="status"]')?.textContent).toBe('Loading…');
  });
});
