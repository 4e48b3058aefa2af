/**
 * @jest-environment jsdom
 */
import { describe, expect, it } from '@jest/globals';

import type { ResourceState } from '../model';
import { appendSample, emptySeries } from '../series';
import type { IHistory } from '../types';
import {
  postmortemsToShow,
  renderState,
  sessionsSection,
  snapshotsSection
} from '../view';
import { GiB, oom, resources, sessions, snapshot, T0 } from './fixtures';

const NOW = T0 * 1000; // client clock in ms, in step with the payloads

function render(state: ResourceState, options = {}): HTMLElement {
  const root = document.createElement('div');
  root.append(...renderState(state, { now: NOW, ...options }));
  return root;
}

function ok(
  extra: Partial<Extract<ResourceState, { status: 'ok' }>> = {}
): ResourceState {
  return { status: 'ok', data: resources(), receivedAt: NOW, ...extra };
}

describe('sessions section', () => {
  it('lists each kernel with its notebook, state, memory and countdown', () => {
    const s = sessions([
      { seconds_to_cull: 82 * 60 + 10, gpu_memory: 3 * GiB },
      { seconds_to_cull: 299, execution_state: 'busy' },
      { seconds_to_cull: 90 }
    ]);
    const root = render(
      ok({ sessions: { status: 'ok', data: s, receivedAt: NOW } })
    );
    const items = Array.from(root.querySelectorAll('.jp-colab-guard-kernel'));

    expect(
      items.map(
        i => i.querySelector('.jp-colab-guard-kernel-name')?.textContent
      )
    ).toEqual(['nb0.ipynb', 'nb1.ipynb', 'nb2.ipynb']);
    expect(items[0].textContent).toContain('RAM 1.0 GiB · GPU 3.0 GiB');
    expect(
      items[1].querySelector('.jp-colab-guard-kernel-state')?.textContent
    ).toBe('busy');
    const timers = items.map(i => i.querySelector('[role="timer"]')!);
    expect(timers.map(t => t.textContent)).toEqual(['82:10', '04:59', '01:30']);
    expect(timers.map(t => t.getAttribute('data-level'))).toEqual([
      'ok',
      'warn',
      'critical'
    ]);
    // the governing policy and its source on hover
    expect(timers[0].getAttribute('title')).toBe(
      'Idle kernels culled after 10 min (MappingKernelManager.cull_idle_timeout)'
    );
    expect(items[0].textContent).toContain('Idle culling in');
  });

  it('runs countdowns down by the time since the answer', () => {
    const s = sessions([{ seconds_to_cull: 600 }]);
    const root = render(
      ok({ sessions: { status: 'ok', data: s, receivedAt: NOW - 15000 } })
    );
    expect(root.querySelector('[role="timer"]')?.textContent).toBe('09:45');
  });

  it('says why a kernel has no countdown', () => {
    const s = sessions([
      { seconds_to_cull: null, cull_reason: null, connections: 1 }
    ]);
    const section = sessionsSection(
      { status: 'ok', data: s, receivedAt: NOW },
      { now: NOW }
    )!;
    expect(section.textContent).toContain(
      'Not culled while a tab is connected (MappingKernelManager.cull_connected is off)'
    );
  });

  it("shows the server's countdowns, cost, advice and the policy with sources", () => {
    const s = sessions([], {
      server: {
        started: null,
        last_activity: null,
        seconds_to_shutdown: 1500,
        lifetime_ends_at: null,
        seconds_to_lifetime_end: 100,
        seconds_to_idle_disconnect: null
      },
      cost: {
        rate: 0.5,
        unit: 'USD',
        pattern: 'T4',
        accrued: 1.5,
        accrued_low_utilization: 0.5,
        hours: 3
      },
      warnings: [
        { kind: 'low-utilization', message: 'The GPU has stayed under 10%.' },
        // left out: the Memory section's own trend line says it
        {
          kind: 'memory-growth',
          message: 'Memory is growing steadily.',
          seconds_to_limit: 600
        }
      ]
    });
    const section = sessionsSection(
      { status: 'ok', data: s, receivedAt: NOW },
      { now: NOW }
    )!;

    const shutdown = section.querySelector(
      '[data-server-countdown="shutdown"] [role="timer"]'
    )!;
    expect(shutdown.textContent).toBe('25:00');
    expect(
      section
        .querySelector('[data-server-countdown="lifetime"] [role="timer"]')
        ?.getAttribute('data-level')
    ).toBe('critical');
    expect(section.textContent).toContain('No kernel is running.');
    const cost = section.querySelector('[data-testid="cost"]')!;
    expect(cost.textContent).toContain('1.50 USD');
    expect(cost.textContent).toContain('0.50 USD (33%)');
    expect(section.querySelector('[aria-label="Advice"]')?.textContent).toBe(
      'The GPU has stayed under 10%.'
    );
    const policy = section.querySelector('[data-policy="cull_idle_timeout"]')!;
    expect(policy.getAttribute('title')).toBe(
      'Set by MappingKernelManager.cull_idle_timeout'
    );
    expect(policy.textContent).toBe('Idle kernels culled after 10 min');
  });

  it('is hidden where the server has no sessions endpoint, and says an error', () => {
    expect(sessionsSection({ status: 'absent' })).toBeNull();
    expect(sessionsSection(undefined)).toBeNull();
    const error = sessionsSection({
      status: 'error',
      failure: { kind: 'http', status: 500 },
      message: 'boom'
    })!;
    expect(error.textContent).toContain('Server error (HTTP 500)');
  });
});

describe('snapshots section', () => {
  it('groups snapshots per notebook with time, size, variables, restore, copy and delete', () => {
    const list = {
      snapshot_dir: '/snap',
      snapshots: [
        snapshot('train', 'b'),
        snapshot('eval', 'c'),
        snapshot('train', 'a', { size: 512 })
      ]
    };
    const section = snapshotsSection(
      { status: 'ok', data: list, receivedAt: NOW },
      { now: NOW }
    )!;

    const groups = Array.from(section.querySelectorAll('[data-notebook-key]'));
    expect(groups.map(g => g.querySelector('h4')?.textContent)).toEqual([
      'train.ipynb',
      'eval.ipynb'
    ]);
    const first = groups[0].querySelector('.jp-colab-guard-snapshot')!;
    expect(first.textContent).toContain('13 min ago');
    expect(first.textContent).toContain('2.0 GiB');
    expect(first.textContent).toContain(
      '2 variables: x (ndarray), df (DataFrame)'
    );
    expect(first.textContent).toContain(
      'Not saved: f (function defined in the notebook)'
    );
    expect(first.querySelector('code')?.textContent).toBe('%guard restore b');
    const copy = first.querySelector('button[data-action="copy"]')!;
    expect(copy.getAttribute('data-text')).toBe('%guard restore b');
    expect(copy.getAttribute('type')).toBe('button');
    const del = first.querySelector('button[data-action="delete"]')!;
    expect(del.getAttribute('data-snapshot-key')).toBe('train');
    expect(del.getAttribute('data-snapshot-id')).toBe('b');
    expect(del.getAttribute('aria-label')).toBe(
      'Delete snapshot b of train.ipynb'
    );
    expect(groups[0].querySelectorAll('.jp-colab-guard-snapshot')).toHaveLength(
      2
    );
  });

  it('marks the copied command and the snapshot being deleted', () => {
    const list = { snapshot_dir: '/snap', snapshots: [snapshot('train', 'b')] };
    const section = snapshotsSection(
      { status: 'ok', data: list, receivedAt: NOW },
      { now: NOW, copied: '%guard restore b', deleting: new Set(['train/b']) }
    )!;
    expect(
      section.querySelector('button[data-action="copy"]')?.textContent
    ).toBe('Copied');
    const del = section.querySelector<HTMLButtonElement>(
      'button[data-action="delete"]'
    )!;
    expect(del.disabled).toBe(true);
    expect(del.textContent).toBe('Deleting…');
  });

  it('says when there is none, and hides without the endpoint', () => {
    const section = snapshotsSection({
      status: 'ok',
      data: { snapshot_dir: '/s', snapshots: [] },
      receivedAt: NOW
    })!;
    expect(
      section.querySelector('[data-testid="no-snapshots"]')
    ).not.toBeNull();
    expect(snapshotsSection({ status: 'absent' })).toBeNull();
  });
});

describe('post-mortem banner', () => {
  it('says why the kernel died and which snapshot to restore', () => {
    const postmortems = { kernels: [oom()], previous_session: [] };
    const root = render(
      ok({ postmortems: { status: 'ok', data: postmortems, receivedAt: NOW } })
    );

    const banner = root.querySelector('.jp-colab-guard-postmortem')!;
    expect(banner.getAttribute('role')).toBe('alert');
    expect(
      banner.querySelector('.jp-colab-guard-postmortem-title')?.textContent
    ).toBe('Kernel of train.ipynb died: OOM at 11.8 of 12.0 GiB');
    expect(banner.textContent).toContain(
      "the container's OOM-kill counter rose"
    );
    expect(banner.textContent).toContain('peak 99% of the limit');
    expect(banner.querySelector('code')?.textContent).toBe(
      '%guard restore 20231114-220000'
    );
    expect(root.firstElementChild).toBe(banner); // above everything else
  });

  it('shows the newest first, leaves out dismissed ones, at most three', () => {
    const pms = [1, 2, 3, 4].map(i =>
      oom({ kernel_id: `k${i}`, died_at: T0 - i * 10 })
    );
    const shown = postmortemsToShow(
      { kernels: pms, previous_session: [] },
      new Set([`k1@${T0 - 10}`])
    );
    expect(shown.map(p => p.kernel_id)).toEqual(['k2', 'k3', 'k4']);
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
          accelerators: [
            {
              kind: 'gpu',
              index: 0,
              name: 'Tesla T4',
              memory_total: 15 * GiB,
              memory_used: GiB,
              utilization_gpu: i % 100,
              utilization_memory: null,
              temperature_c: null,
              power_draw_w: null,
              power_limit_w: null
            }
          ]
        }),
        600
      );
    }
    return s;
  }

  it('draws the GPU utilisation and memory history as inline SVG', () => {
    const history = climbing();
    const data = resources(9 * GiB, {
      accelerators: [
        {
          kind: 'gpu',
          index: 0,
          name: 'Tesla T4',
          memory_total: 15 * GiB,
          memory_used: GiB,
          utilization_gpu: 0,
          utilization_memory: null,
          temperature_c: null,
          power_draw_w: null,
          power_limit_w: null
        }
      ],
      accelerator_status: 'ok'
    });
    const root = render({ status: 'ok', data, receivedAt: NOW, history });

    const gpu = root.querySelector(
      'svg[aria-label^="GPU 0 utilisation history"]'
    )!;
    expect(gpu.getAttribute('role')).toBe('img');
    expect(Number(gpu.getAttribute('data-points'))).toBe(151);
    expect(gpu.getAttribute('aria-label')).toContain('0% to 98%');
    expect(gpu.querySelector('path')?.getAttribute('d')).toMatch(
      /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/
    );
    expect(
      root.querySelector('svg[aria-label^="Memory history"]')
    ).not.toBeNull();
  });

  it('projects the time to the limit when memory climbs', () => {
    const history = climbing();
    const root = render({
      status: 'ok',
      data: resources(9 * GiB),
      receivedAt: NOW,
      history
    });
    const trend = root.querySelector('[data-testid="memory-trend"]')!;
    expect(trend.getAttribute('data-climbing')).toBe('true');
    // 6 GiB + 3000 MiB now = 8.93 GiB; 3.07 GiB left at 10 MiB/s = 314 s
    expect(trend.textContent).toBe('climbing 600.0 MiB/min: limit in ~5 min');
    expect(trend.getAttribute('data-level')).toBe('warn');
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
    const root = render({
      status: 'ok',
      data: resources(4 * GiB),
      receivedAt: NOW,
      history
    });
    expect(
      root.querySelector('[data-testid="memory-trend"]')?.textContent
    ).toBe('not climbing');
  });
});
