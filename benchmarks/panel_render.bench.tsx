/**
 * The measurements of benchmarks/panel_render.js (run it, not this file).
 *
 * The payloads come from labextension/__tests__/fixtures.ts; the history is
 * replayed through the model's own series code, one poll every 2 s for
 * 10 minutes, as the panel would have accumulated it.
 */
import { describe, expect, it } from '@jest/globals';
import * as fs from 'fs';

import {
  GiB,
  gpu,
  oom,
  resources,
  sessions,
  snapshot,
  T0
} from '../labextension/__tests__/fixtures';
import * as React from 'react';
import { flushSync } from 'react-dom';
import { createRoot, Root } from 'react-dom/client';

import type {
  IPanelActions,
  IPanelUiState,
  IViewOptions
} from '../labextension/components/common';
import { PanelHeader } from '../labextension/components/header';
import {
  AcceleratorBody,
  CpuBody,
  DiskBody,
  MemoryBody
} from '../labextension/components/resources';
import { SessionsBody } from '../labextension/components/sessions';
import { SnapshotsBody } from '../labextension/components/snapshots';
import { loadBundle } from '../labextension/i18n';
import { appendSample, emptySeries } from '../labextension/model/series';
import type { IOkState, ResourceState } from '../labextension/model/state';
import type { IHistory, IResources } from '../labextension/model/types';

const GPUS = 8;
const KERNELS = 50;
const SNAPSHOTS = 10;
const POLL_SECONDS = 2;
const HISTORY_SECONDS = 600;
const RUNS = Number(process.env.PANEL_RENDER_RUNS ?? 200);
const WARMUP = Number(process.env.PANEL_RENDER_WARMUP ?? 30);
const NOW = T0 * 1000;

/** The resources answer of one poll, `i` polls before the last one. */
function poll(i: number): IResources {
  const t = T0 - i * POLL_SECONDS;
  return resources(6 * GiB + ((300 - i) % 300) * 8 * 1024 ** 2, {
    timestamp: t,
    accelerators: Array.from({ length: GPUS }, (_, g) =>
      gpu(g, {
        utilization_gpu: (g * 13 + i * 7) % 101,
        memory_used: (4 + g * 4) * GiB
      })
    ),
    accelerator_status: 'ok',
    host: {
      ...resources().host,
      disk: {
        root_dir: {
          path: '/content',
          total: 100 * GiB,
          used: 40 * GiB,
          free: 60 * GiB
        },
        snapshot_dir: {
          path: '/snap',
          total: 50 * GiB,
          used: 12 * GiB,
          free: 38 * GiB
        }
      }
    }
  });
}

function bigRuntime(): ResourceState {
  let history: IHistory = emptySeries();
  for (let i = HISTORY_SECONDS / POLL_SECONDS; i >= 0; i--) {
    history = appendSample(history, poll(i), HISTORY_SECONDS);
  }
  const kernels = Array.from({ length: KERNELS }, (_, k) => ({
    seconds_to_cull: k % 7 === 0 ? null : 60 + k * 97,
    execution_state: k % 5 === 0 ? 'busy' : 'idle',
    connections: k % 7 === 0 ? 1 : 0,
    gpu_memory: k < GPUS ? (k + 1) * GiB : null,
    rss: (1 + (k % 4)) * GiB
  }));
  const s = sessions(kernels, {
    server: {
      started: '2023-11-14T21:00:00Z',
      last_activity: '2023-11-14T22:10:00Z',
      seconds_to_shutdown: 5400,
      lifetime_ends_at: null,
      seconds_to_lifetime_end: 20000,
      seconds_to_idle_disconnect: 3000
    },
    cost: {
      rate: 32.77,
      unit: 'USD',
      pattern: 'A100',
      accrued: 40.1,
      accrued_low_utilization: 3.2,
      hours: 1.2,
      low_utilization_threshold: 10
    },
    warnings: [
      { kind: 'low-utilization', message: 'GPUs 3 to 7 have stayed under 10%.' }
    ]
  });
  const snapshots = Array.from({ length: SNAPSHOTS }, (_, n) =>
    snapshot(`nb${n % 5}`, `2023111422${String(n).padStart(4, '0')}`)
  );
  return {
    status: 'ok',
    data: poll(0),
    receivedAt: NOW,
    history,
    sessions: { status: 'ok', data: s, receivedAt: NOW },
    snapshots: {
      status: 'ok',
      data: { snapshot_dir: '/snap', snapshots },
      receivedAt: NOW
    },
    postmortems: {
      status: 'ok',
      data: { kernels: [oom()], previous_session: [] },
      receivedAt: NOW
    }
  };
}

const trans = loadBundle();
const ui: IPanelUiState = {
  copied: null,
  deleting: new Set(),
  dismissed: new Set()
};
const actions: IPanelActions = {
  copy: () => undefined,
  deleteSnapshot: () => undefined,
  dismiss: () => undefined
};

/** What each of the panel's React roots renders: its header and its six sections. */
function parts(state: IOkState, now: number): React.ReactElement[] {
  const options: IViewOptions = {
    trans,
    units: 'GiB',
    historyMinutes: 10,
    projectionMinutes: 5,
    now
  };
  return [
    <PanelHeader state={state} options={options} ui={ui} actions={actions} />,
    <AcceleratorBody
      data={state.data}
      history={state.history}
      options={options}
    />,
    <MemoryBody
      state={state}
      settings={{ projectionMinutes: 5 }}
      options={options}
    />,
    <SessionsBody state={state.sessions} options={options} />,
    <CpuBody data={state.data} options={options} />,
    <DiskBody data={state.data} options={options} />,
    <SnapshotsBody
      state={state.snapshots}
      options={options}
      ui={ui}
      actions={actions}
    />
  ];
}

const roots = new WeakMap<HTMLElement, Root[]>();

/**
 * The panel as it renders on each poll and each second (the code under test):
 * one React root per part, as the panel has one ReactWidget per part, each
 * rendered synchronously.
 */
function renderPanel(
  container: HTMLElement,
  state: ResourceState,
  now: number
) {
  let list = roots.get(container);
  const elements = parts(state as IOkState, now);
  if (!list) {
    list = elements.map(() => {
      const node = document.createElement('div');
      container.appendChild(node);
      return createRoot(node);
    });
    roots.set(container, list);
  }
  elements.forEach((element, i) => flushSync(() => list![i].render(element)));
}
const IMPLEMENTATION = `React ${React.version} components, one root per section (${process.env.NODE_ENV} build)`;

function unmountPanel(container: HTMLElement) {
  roots.get(container)?.forEach(root => flushSync(() => root.unmount()));
}

/** The baseline: the same figures as plain text rows. */
function renderText(container: HTMLElement, state: ResourceState, now: number) {
  if (state.status !== 'ok') {
    return;
  }
  const rows: HTMLElement[] = [];
  const line = (text: string) => {
    const div = document.createElement('div');
    div.textContent = text;
    rows.push(div);
  };
  const m = state.data.host.memory;
  line(`memory ${m.working_set} of ${m.limit} (${m.limit_source})`);
  for (const a of state.data.accelerators) {
    if (a.kind === 'gpu') {
      line(
        `GPU ${a.index} ${a.name} ${a.memory_used}/${a.memory_total} ${a.utilization_gpu}% ${a.temperature_c} C ${a.power_draw_w}/${a.power_limit_w} W`
      );
    }
  }
  if (state.sessions?.status === 'ok') {
    const elapsed = (now - state.sessions.receivedAt) / 1000;
    for (const k of state.sessions.data.kernels) {
      line(
        `${k.path} ${k.execution_state} ${k.rss} ${k.gpu_memory} ${k.seconds_to_cull === null ? '' : Math.ceil(k.seconds_to_cull - elapsed)}`
      );
    }
  }
  if (state.snapshots?.status === 'ok') {
    for (const s of state.snapshots.data.snapshots) {
      line(`${s.notebook} ${s.created} ${s.size} ${s.restore}`);
    }
  }
  container.replaceChildren(...rows);
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

describe('panel render benchmark', () => {
  it(`renders ${GPUS} GPUs and ${KERNELS} kernels`, () => {
    const state = bigRuntime();
    const baseline: number[] = [];
    const mount: number[] = [];
    const update: number[] = [];
    let elements = 0;
    for (let run = -WARMUP; run < RUNS; run++) {
      const text = document.createElement('div');
      const panel = document.createElement('div');
      document.body.append(text, panel);
      const b = time(() => renderText(text, state, NOW + 1000));
      const m = time(() => renderPanel(panel, state, NOW));
      const u = time(() => renderPanel(panel, state, NOW + 1000));
      elements = panel.querySelectorAll('*').length;
      unmountPanel(panel);
      text.remove();
      panel.remove();
      if (run >= 0) {
        baseline.push(b);
        mount.push(m);
        update.push(u);
      }
    }
    expect(elements).toBeGreaterThan(KERNELS);
    const result = {
      implementation: IMPLEMENTATION,
      gpus: GPUS,
      kernels: KERNELS,
      snapshots: SNAPSHOTS,
      samples: state.status === 'ok' ? state.history!.t.length : 0,
      runs: RUNS,
      baseline: median(baseline),
      mount: median(mount),
      update: median(update),
      mountRatio: median(mount) / median(baseline),
      updateRatio: median(update) / median(baseline),
      elements
    };
    fs.writeFileSync(
      process.env.PANEL_RENDER_OUT ?? 'panel_render.json',
      JSON.stringify(result, null, 2)
    );
  });
});
