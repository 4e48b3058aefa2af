/**
 * @jest-environment jsdom
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import * as React from 'react';

import { PanelHeader } from '../components/header';
import { SessionsBody } from '../components/sessions';
import { SnapshotsBody } from '../components/snapshots';
import type { EndpointState, ResourceState } from '../model/state';
import type { ISessions, ISnapshotList } from '../model/types';
import { GiB, oom, resources, sessions, snapshot, T0 } from './fixtures';
import {
  click,
  find,
  IRendered,
  NOW,
  recordingActions,
  render as mount,
  uiState,
  viewOptions
} from './render';

const mounted: IRendered[] = [];
function render(element: React.ReactElement): HTMLElement {
  const r = mount(element);
  mounted.push(r);
  return r.container;
}
afterEach(() => mounted.splice(0).forEach(r => r.unmount()));

function answered<T>(data: T, receivedAt = NOW): EndpointState<T> {
  return { status: 'ok', data, receivedAt };
}

function renderSessions(
  state: EndpointState<ISessions> | undefined,
  now = NOW
): HTMLElement {
  return render(<SessionsBody state={state} options={viewOptions({ now })} />);
}

describe('sessions section', () => {
  it('lists each kernel with its notebook, state, memory and countdown', () => {
    const root = renderSessions(
      answered(
        sessions([
          { seconds_to_cull: 82 * 60 + 10, gpu_memory: 3 * GiB },
          { seconds_to_cull: 299, execution_state: 'busy' },
          { seconds_to_cull: 90 }
        ])
      )
    );
    const list = find(root, 'ul[aria-label="Kernels"]');
    const items = Array.from(list.querySelectorAll('li'));
    expect(items.map(i => i.getAttribute('aria-label'))).toEqual([
      'Kernel of nb0.ipynb',
      'Kernel of nb1.ipynb',
      'Kernel of nb2.ipynb'
    ]);
    expect(items[0].textContent).toContain('RAM 1.0 GiB · GPU 3.0 GiB');
    expect(find(items[1], '.jp-colab-guard-kernel-state').textContent).toBe(
      'busy'
    );
    const timers = items.map(i => find(i, '[role="timer"]'));
    expect(timers.map(t => t.textContent)).toEqual(['82:10', '04:59', '01:30']);
    expect(timers.map(t => t.dataset.level)).toEqual([
      'ok',
      'warn',
      'critical'
    ]);
    // the countdown's accessible name says what ends and when
    expect(timers[2].getAttribute('aria-label')).toBe(
      'Idle culling of nb2.ipynb: 01:30'
    );
    // the governing policy and its source on hover
    expect(timers[0].getAttribute('title')).toBe(
      'Idle kernels culled after 10 min (MappingKernelManager.cull_idle_timeout)'
    );
    expect(items[0].textContent).toContain('Idle culling in 82:10');
  });

  it('runs countdowns down by the time since the answer', () => {
    const root = renderSessions(
      answered(sessions([{ seconds_to_cull: 600 }]), NOW - 15000)
    );
    expect(find(root, '[role="timer"]').textContent).toBe('09:45');
  });

  it("names the cell that grew each kernel most, and the week's accelerator hours", () => {
    const cell = (
      number: number,
      first_line: string,
      rss_growth: number,
      running = false
    ) => ({
      number,
      first_line,
      started: 0,
      seconds: 1,
      growth: rss_growth,
      working_set_peak: null,
      rss_growth,
      rss_peak: null,
      running
    });
    const s = sessions([
      {
        cells: [
          cell(3, 'df = pd.read_csv(path)', 400 * 1024 * 1024),
          cell(4, 'del df', -400 * 1024 * 1024),
          cell(5, 'b = np.ones(n)', 1.5 * GiB, true)
        ]
      },
      { cells: [cell(1, 'x = 1', 0)] }
    ]);
    s.accelerator_hours = {
      days: 7,
      hours: 25.5,
      by_accelerator: { 'Tesla T4': 25.5 },
      budget: 30,
      left: 4.5,
      warning:
        '25.5 of your 30 accelerator hours used in the last 7 days (4.5 h left).'
    };
    const root = renderSessions(answered(s));
    // neither kernel has an oom_score here: none is named as the OOM killer's first
    expect(root.querySelector('[data-testid="oom-first"]')).toBeNull();
    const tops = root.querySelectorAll('[data-testid="top-cell"]');
    // a kernel whose cells grew nothing names none
    expect(tops.length).toBe(1);
    expect(tops[0].textContent).toBe(
      'Grew most: [5] b = np.ones(n) (+1.5 GiB so far, running)'
    );
    const hours = find(root, '[data-testid="accelerator-hours"]');
    expect(hours.textContent).toContain('25.5 of 30 h');
    expect(find(hours, '[data-level]').dataset.level).toBe('warn');
  });

  it('names the kernel the OOM killer would end first, only where one stands out', () => {
    const root = renderSessions(
      answered(
        sessions([{ oom_score: 120 }, { oom_score: 610 }, { oom_score: 5 }])
      )
    );
    const marked = root.querySelectorAll('[data-testid="oom-first"]');
    expect(marked.length).toBe(1);
    expect(marked[0].closest('li')).toBe(root.querySelectorAll('li')[1]);
    expect(marked[0].textContent).toContain(
      'the OOM killer ends this kernel first'
    );
    // a tie, or a single kernel, names none
    const tied = renderSessions(
      answered(sessions([{ oom_score: 300 }, { oom_score: 300 }]))
    );
    expect(tied.querySelector('[data-testid="oom-first"]')).toBeNull();
    const alone = renderSessions(answered(sessions([{ oom_score: 900 }])));
    expect(alone.querySelector('[data-testid="oom-first"]')).toBeNull();
  });

  it('says why a kernel has no countdown', () => {
    const root = renderSessions(
      answered(
        sessions([
          { seconds_to_cull: null, cull_reason: null, connections: 1 },
          {
            seconds_to_cull: null,
            cull_reason: null,
            execution_state: 'busy'
          }
        ])
      )
    );
    const spared = root.querySelectorAll('[data-countdown="none"]');
    expect(spared[0].textContent).toBe(
      'Not culled while a tab is connected (MappingKernelManager.cull_connected is off)'
    );
    expect(spared[1].textContent).toBe(
      'Not culled while busy (MappingKernelManager.cull_busy is off)'
    );
    // the setting's name wraps after its dot and underscores, not mid-word,
    // and the text copies whole (<wbr> adds no characters)
    expect(spared[1].innerHTML).toContain(
      'MappingKernelManager.<wbr>cull_<wbr>busy'
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
        {
          kind: 'low-utilization',
          message: 'The GPU has stayed under 10%.',
          cause: 'input-pipeline',
          evidence: {
            kernel_cpu_percent: 97.5,
            cell_running_share: 1,
            cpus: 2,
            nested: { a: 1 }
          }
        },
        // left out: the Memory section's own trend line says it
        {
          kind: 'memory-growth',
          message: 'Memory is growing steadily.',
          seconds_to_limit: 600
        }
      ]
    });
    const root = renderSessions(answered(s));

    const shutdown = find(root, '[data-server-countdown="shutdown"]');
    expect(find(shutdown, '[role="timer"]').textContent).toBe('25:00');
    expect(shutdown.textContent).toContain('Server shuts down in');
    expect(
      find(root, '[data-server-countdown="lifetime"] [role="timer"]').dataset
        .level
    ).toBe('critical');
    expect(root.querySelector('[data-server-countdown="idle"]')).toBeNull();
    expect(root.textContent).toContain('No kernel is running.');
    const cost = find(root, '[data-testid="cost"]');
    expect(cost.textContent).toContain('1.50 USD');
    expect(cost.textContent).toContain('0.50 USD (33%)');
    const advice = find(root, '[aria-label="Advice"] li');
    expect(advice.firstChild!.textContent).toBe(
      'The GPU has stayed under 10%.'
    );
    expect(advice.dataset.cause).toBe('input-pipeline');
    // the diagnosis' figures, folded under "Evidence" (nested values left out)
    expect(find(advice, 'details summary').textContent).toBe('Evidence');
    expect(
      Array.from(advice.querySelectorAll('[data-evidence]')).map(
        e => e.textContent
      )
    ).toEqual(['kernel cpu percent: 97.5', 'cell running share: 1', 'cpus: 2']);
    const policy = find(root, '[data-policy="cull_idle_timeout"]');
    expect(policy.getAttribute('title')).toBe(
      'Set by MappingKernelManager.cull_idle_timeout'
    );
    expect(policy.textContent).toBe('Idle kernels culled after 10 min');
    expect(find(root, '.jp-colab-guard-policy summary').textContent).toBe(
      'Policy'
    );
  });

  it("counts down on the hub's clock and says what keeps the server alive", () => {
    const message =
      'A visible browser tab keeps this server running (its polling counts as activity); once every tab is hidden or closed the hub stops it in 1 h.';
    const s = sessions([], {
      server: {
        ...sessions().server,
        seconds_to_idle_disconnect: 3590,
        hub: {
          answered: true,
          cull_from: '2023-11-14T23:13:10Z',
          cull_by: '2023-11-14T23:23:10Z',
          kept_alive_by: [
            { source: 'browser-tab', last: '2023-11-14T22:13:10Z' }
          ],
          message
        }
      }
    });
    const root = renderSessions(answered(s));
    expect(find(root, '[data-server-countdown="idle"]').textContent).toContain(
      'The hub stops this server in'
    );
    const hub = find(root, '[data-testid="hub-clock"]');
    expect(hub.textContent).toBe(message);
    expect(hub.dataset.answered).toBe('true');

    // Where the hub did not answer, the countdown is the server's own, and the line says why
    s.server.hub = { ...s.server.hub!, answered: false, error: 'HTTP 403' };
    const fallback = renderSessions(answered(s));
    expect(
      find(fallback, '[data-server-countdown="idle"]').textContent
    ).toContain('Idle disconnect in');
    expect(
      find(fallback, '[data-testid="hub-clock"]').getAttribute('title')
    ).toContain('HTTP 403');
  });

  it('says it is loading, and what failed', () => {
    expect(
      find(renderSessions({ status: 'loading' }), '[role="status"]').textContent
    ).toBe('Loading…');
    const error = renderSessions({
      status: 'error',
      failure: { kind: 'http', status: 500 },
      message: 'boom'
    });
    expect(find(error, '[data-failure="http"]').textContent).toBe(
      'Server error (HTTP 500)boom'
    );
  });
});

describe('snapshots section', () => {
  function renderSnapshots(
    state: EndpointState<ISnapshotList> | undefined,
    ui = uiState(),
    actions = recordingActions()
  ): HTMLElement {
    return render(
      <SnapshotsBody
        state={state}
        options={viewOptions()}
        ui={ui}
        actions={actions}
      />
    );
  }

  it('groups snapshots per notebook with time, size, variables and restore command', () => {
    const root = renderSnapshots(
      answered({
        snapshot_dir: '/snap',
        snapshots: [
          snapshot('train', 'b'),
          snapshot('eval', 'c'),
          snapshot('train', 'a', { size: 512 })
        ]
      })
    );
    const groups = Array.from(root.querySelectorAll('[data-notebook-key]'));
    expect(groups.map(g => g.querySelector('h4')?.textContent)).toEqual([
      'train.ipynb',
      'eval.ipynb'
    ]);
    expect(
      groups.map(g => g.querySelector('ul')?.getAttribute('aria-label'))
    ).toEqual(['Snapshots of train.ipynb', 'Snapshots of eval.ipynb']);
    const first = find(groups[0], '.jp-colab-guard-snapshot');
    expect(first.textContent).toContain('13 min ago');
    expect(first.textContent).toContain('2.0 GiB');
    expect(first.textContent).toContain(
      '2 variables: x (ndarray), df (DataFrame)'
    );
    expect(first.textContent).toContain(
      'Not saved: f (function defined in the notebook)'
    );
    expect(find(first, 'code').textContent).toBe('%guard restore b');
    const copy = find(first, 'button[data-action="copy"]');
    expect(copy.getAttribute('type')).toBe('button');
    expect(copy.getAttribute('aria-label')).toBe(
      'Copy restore command: %guard restore b'
    );
    const del = find(first, 'button[data-action="delete"]');
    expect(del.getAttribute('aria-label')).toBe(
      'Delete snapshot b of train.ipynb'
    );
    expect(groups[0].querySelectorAll('.jp-colab-guard-snapshot')).toHaveLength(
      2
    );
    expect(root.textContent).toContain('Saved in /snap');
  });

  it('copies and deletes through the actions', () => {
    const actions = recordingActions();
    const root = renderSnapshots(
      answered({ snapshot_dir: '/s', snapshots: [snapshot('train', 'b')] }),
      uiState(),
      actions
    );
    click(root.querySelector('button[data-action="copy"]'));
    click(root.querySelector('button[data-action="delete"]'));
    expect(actions.calls).toEqual([
      'copy %guard restore b',
      'delete train/b of train.ipynb'
    ]);
  });

  it('marks the copied command and the snapshot being deleted', () => {
    const root = renderSnapshots(
      answered({ snapshot_dir: '/snap', snapshots: [snapshot('train', 'b')] }),
      uiState({ copied: '%guard restore b', deleting: new Set(['train/b']) })
    );
    const copy = find(root, 'button[data-action="copy"]');
    expect(copy.textContent).toBe('Copied');
    expect(copy.dataset.copied).toBe('true');
    const del = find<HTMLButtonElement>(root, 'button[data-action="delete"]');
    expect(del.disabled).toBe(true);
    expect(del.textContent).toBe('Deleting…');
  });

  it('says when there is none, and while loading', () => {
    const root = renderSnapshots(
      answered({ snapshot_dir: '/s', snapshots: [] })
    );
    expect(find(root, '[data-testid="no-snapshots"]').textContent).toBe(
      'No snapshot yet. The kernel saves one near the memory limit; %guard snapshot saves one now.'
    );
    expect(
      find(renderSnapshots({ status: 'loading' }), '[role="status"]')
        .textContent
    ).toBe('Loading…');
  });
});

describe('panel header', () => {
  function renderHeader(
    state: ResourceState,
    ui = uiState(),
    actions = recordingActions()
  ): HTMLElement {
    return render(
      <PanelHeader
        state={state}
        options={viewOptions()}
        ui={ui}
        actions={actions}
      />
    );
  }

  it('says it is loading before the first answer', () => {
    expect(
      find(renderHeader({ status: 'loading' }), '[role="status"]').textContent
    ).toBe('Loading…');
  });

  it('says the server is unreachable, and that it retries', () => {
    const alert = find(
      renderHeader({
        status: 'error',
        failure: { kind: 'network' },
        message: 'Failed to fetch'
      }),
      '[role="alert"]'
    );
    expect(alert.textContent).toBe(
      'Server unreachableFailed to fetchRetrying…'
    );
  });

  it('names the environment', () => {
    const root = renderHeader({
      status: 'ok',
      data: resources(GiB, {
        environment: { kind: 'jupyterhub', user: 'ada' }
      }),
      receivedAt: NOW
    });
    expect(find(root, '.jp-colab-guard-environment').textContent).toBe(
      'JupyterHub server (ada)'
    );
  });

  it('says why a kernel died and which snapshot to restore, above the rest', () => {
    const actions = recordingActions();
    const root = renderHeader(
      {
        status: 'ok',
        data: resources(),
        receivedAt: NOW,
        postmortems: answered({ kernels: [oom()], previous_session: [] })
      },
      uiState(),
      actions
    );
    const banner = find(root, '.jp-colab-guard-postmortem');
    expect(banner.getAttribute('role')).toBe('alert');
    expect(find(banner, '.jp-colab-guard-postmortem-title').textContent).toBe(
      'Kernel of train.ipynb died: OOM at 11.8 of 12.0 GiB'
    );
    expect(banner.textContent).toContain(
      "the container's OOM-kill counter rose"
    );
    expect(banner.textContent).toContain('peak 99% of the limit');
    expect(banner.textContent).toContain(
      '(2 variables). In the new kernel, run:'
    );
    expect(find(banner, 'code').textContent).toBe(
      '%guard restore 20231114-220000'
    );
    expect(root.firstElementChild).toBe(banner);

    click(banner.querySelector('button[data-action="dismiss"]'));
    expect(actions.calls).toEqual([`dismiss dead1@${T0 - 60}`]);
  });

  it('leaves out dismissed post-mortems', () => {
    const root = renderHeader(
      {
        status: 'ok',
        data: resources(),
        receivedAt: NOW,
        postmortems: answered({
          kernels: [oom(), oom({ kernel_id: 'k2', snapshot: null })],
          previous_session: []
        })
      },
      uiState({ dismissed: new Set([`dead1@${T0 - 60}`]) })
    );
    const banners = root.querySelectorAll('.jp-colab-guard-postmortem');
    expect(banners).toHaveLength(1);
    expect(banners[0].textContent).toContain(
      'No snapshot was saved before it died.'
    );
  });
});
