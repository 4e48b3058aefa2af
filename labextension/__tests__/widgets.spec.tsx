/**
 * @jest-environment jsdom
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Signal } from '@lumino/signaling';
import { AccordionPanel, Widget } from '@lumino/widgets';
import { act } from 'react';

import type { GuardModel } from '../model/guard';
import type { ResourceState } from '../model/state';
import { DEFAULT_SETTINGS, IGuardSettings } from '../settings';
import {
  GuardStatusItem,
  GuardTopIndicator,
  IndicatorModel
} from '../widgets/indicator';
import { fitHeights, GuardPanel, PANEL_ID } from '../widgets/panel';
import { COPIED_MS, PanelModel } from '../widgets/panelmodel';
import { GiB, gpu, resources, sessions, snapshot } from './fixtures';
import { find, NOW } from './render';

/** What the views read of a GuardModel, driven by the test. */
class StubModel {
  changed = new Signal<this, ResourceState>(this);
  state: ResourceState = { status: 'loading' };
  settings: IGuardSettings = { ...DEFAULT_SETTINGS };
  calls: string[] = [];
  deleteError: Error | null = null;

  set(state: ResourceState): void {
    this.state = state;
    act(() => {
      this.changed.emit(state);
    });
  }

  refresh(all = false): Promise<void> {
    this.calls.push(`refresh ${all}`);
    return Promise.resolve();
  }

  async deleteSnapshot(key: string, id: string): Promise<void> {
    this.calls.push(`delete ${key}/${id}`);
    if (this.deleteError) {
      throw this.deleteError;
    }
  }
}

function okState(extra: object = {}): ResourceState {
  return {
    status: 'ok',
    data: resources(9 * GiB, {
      accelerators: [gpu(0)],
      accelerator_status: 'ok'
    }),
    receivedAt: Date.now(),
    sessions: {
      status: 'ok',
      data: sessions([{ seconds_to_cull: 400 }]),
      receivedAt: Date.now()
    },
    snapshots: {
      status: 'ok',
      data: { snapshot_dir: '/s', snapshots: [snapshot('train', 'a')] },
      receivedAt: Date.now()
    },
    postmortems: {
      status: 'ok',
      data: { kernels: [], previous_session: [] },
      receivedAt: Date.now()
    },
    ...extra
  };
}

const widgets: Widget[] = [];
afterEach(() => {
  act(() => {
    widgets.splice(0).forEach(w => w.dispose());
  });
  jest.useRealTimers();
});

/** Attach a widget to the document, rendering what React renders. */
async function attach<T extends Widget>(widget: T): Promise<T> {
  widgets.push(widget);
  await act(async () => {
    Widget.attach(widget, document.body);
  });
  return widget;
}

function panelFor(stub: StubModel, options: Partial<PanelModel.IOptions> = {}) {
  const model = new PanelModel({
    model: stub as unknown as GuardModel,
    ...options
  });
  return new GuardPanel({ model });
}

/** The keys of the sections shown, in order. */
function sectionKeys(panel: GuardPanel): string[] {
  return panel.content.widgets.map(w => w.node.dataset.section ?? '');
}

describe('GuardPanel', () => {
  it('is a side panel with a refresh button, a header and a section per topic', async () => {
    const stub = new StubModel();
    const panel = await attach(panelFor(stub));

    expect(panel.id).toBe(PANEL_ID);
    expect(panel.node.getAttribute('role')).toBe('region');
    expect(panel.node.getAttribute('aria-label')).toBe('colab-guard');
    // Attached and visible: the panel model is active and asks for everything
    expect(panel.model.active).toBe(true);
    expect(stub.calls).toEqual(['refresh true']);
    // Before an answer: "Loading…" and no section
    expect(panel.node.dataset.state).toBe('loading');
    expect(panel.content.isHidden).toBe(true);
    expect(find(panel.node, '.jp-colab-guard-header').textContent).toBe(
      'Loading…'
    );

    stub.set(okState());

    expect(panel.node.dataset.state).toBe('ok');
    expect(panel.content.isHidden).toBe(false);
    expect(sectionKeys(panel)).toEqual([
      'accelerator',
      'memory',
      'sessions',
      'cpu',
      'disk',
      'snapshots'
    ]);
    // Each section is a region named by its accordion title
    const titles = Array.from(
      panel.node.querySelectorAll('.lm-AccordionPanel-title')
    );
    expect(titles.map(t => t.textContent)).toEqual([
      'Accelerator',
      'Memory',
      'Sessions',
      'CPU',
      'Disk',
      'Snapshots'
    ]);
    const memory = find(panel.node, '#colab-guard-section-memory');
    expect(memory.getAttribute('role')).toBe('region');
    expect(memory.getAttribute('aria-labelledby')).toBe(titles[1].id);
    expect(
      memory.querySelector('[role="meter"][aria-label="Memory used"]')
    ).not.toBeNull();

    // The toolbar's refresh button asks for everything
    const refresh = find(
      panel.node,
      '.jp-SidePanel-toolbar button[aria-label="Refresh now"]'
    );
    await act(async () => refresh.click());
    expect(stub.calls).toEqual(['refresh true', 'refresh true']);
  });

  it('leaves out the sections of endpoints the server lacks, and brings them back', async () => {
    const stub = new StubModel();
    const panel = await attach(panelFor(stub));
    stub.set(okState({ sessions: { status: 'absent' } }));
    expect(sectionKeys(panel)).not.toContain('sessions');
    expect(sectionKeys(panel)).toHaveLength(5);

    stub.set(okState());
    expect(sectionKeys(panel)).toEqual([
      'accelerator',
      'memory',
      'sessions',
      'cpu',
      'disk',
      'snapshots'
    ]);
  });

  it('remembers the sections the user collapsed, for the next page load', async () => {
    window.localStorage.clear();
    const stub = new StubModel();
    const panel = await attach(panelFor(stub));
    stub.set(okState());
    const content = panel.content as AccordionPanel;
    // When the user collapses the CPU section
    await act(async () => content.collapse(sectionKeys(panel).indexOf('cpu')));
    // Then a panel built later (a page reload) opens with it collapsed, the others expanded
    const again = await attach(panelFor(new StubModel()));
    (again.model.guard as unknown as StubModel).set(okState());
    const hidden = again.content.widgets
      .filter(w => w.isHidden)
      .map(w => w.node.dataset.section);
    expect(hidden).toEqual(['cpu']);
    // And expanding it again is remembered too
    const reopened = again.content as AccordionPanel;
    await act(async () => reopened.expand(sectionKeys(again).indexOf('cpu')));
    expect(
      JSON.parse(window.localStorage.getItem('colab-guard:collapsed-sections')!)
    ).toEqual([]);
  });

  it('replaces every figure by the failure when the server is unreachable', async () => {
    const stub = new StubModel();
    const panel = await attach(panelFor(stub));
    stub.set(okState());
    stub.set({
      status: 'error',
      failure: { kind: 'network' },
      message: 'Failed to fetch'
    });
    expect(panel.node.dataset.state).toBe('error');
    expect(panel.content.isHidden).toBe(true);
    expect(find(panel.node, '[role="alert"]').textContent).toContain(
      'Server unreachable'
    );
  });

  it('renders nothing while hidden, and catches up when shown', async () => {
    const stub = new StubModel();
    const panel = await attach(panelFor(stub));
    act(() => panel.hide());
    expect(panel.model.active).toBe(false);
    stub.set(okState());
    expect(panel.node.dataset.state).toBe('loading');

    act(() => panel.show());
    expect(panel.model.active).toBe(true);
    expect(panel.node.dataset.state).toBe('ok');
  });

  it("its sections' buttons copy and delete", async () => {
    const stub = new StubModel();
    const copied: string[] = [];
    const panel = await attach(
      panelFor(stub, {
        copy: text => copied.push(text),
        confirmDelete: async () => true
      })
    );
    stub.set(okState());
    const snapshots = find(panel.node, '#colab-guard-section-snapshots');

    act(() => find(snapshots, 'button[data-action="copy"]').click());
    expect(copied).toEqual(['%guard restore a']);
    expect(find(snapshots, 'button[data-action="copy"]').textContent).toBe(
      'Copied'
    );

    await act(async () =>
      find(snapshots, 'button[data-action="delete"]').click()
    );
    expect(stub.calls).toContain('delete train/a');
  });

  it('moves the focus to the panel when a dismissed banner goes away', async () => {
    const stub = new StubModel();
    const panel = await attach(panelFor(stub));
    stub.set(
      okState({
        postmortems: {
          status: 'ok',
          data: {
            kernels: [
              {
                kernel_id: 'k',
                notebook: 'a.ipynb',
                died_at: NOW / 1000,
                cause: 'killed',
                confidence: 'certain',
                signal: 'SIGKILL',
                snapshot: null
              }
            ],
            previous_session: []
          },
          receivedAt: NOW
        }
      })
    );
    const dismiss = find(panel.node, 'button[data-action="dismiss"]');
    dismiss.focus();
    act(() => dismiss.click());
    expect(panel.node.querySelector('.jp-colab-guard-postmortem')).toBeNull();
    expect(document.activeElement).toBe(panel.node);
  });
});

describe('fitHeights', () => {
  it('gives each section what it needs where all fit, the last the rest', () => {
    expect(fitHeights([60, 200, 100], 500)).toEqual([60, 200, 240]);
  });

  it('keeps the small sections whole and shares the rest among the large', () => {
    // 600 px for sections wanting 60, 80, 400 and 500: the small two whole,
    // the large two 230 each
    expect(fitHeights([400, 60, 500, 80], 600)).toEqual([230, 60, 230, 80]);
  });
});

describe('PanelModel', () => {
  it('emits only while active, and every second while active', () => {
    jest.useFakeTimers();
    const stub = new StubModel();
    const model = new PanelModel({ model: stub as unknown as GuardModel });
    let emitted = 0;
    model.stateChanged.connect(() => (emitted += 1));

    stub.set(okState());
    expect(emitted).toBe(0);

    model.active = true;
    expect(emitted).toBe(1);
    jest.advanceTimersByTime(3000);
    expect(emitted).toBe(4);

    model.active = false;
    jest.advanceTimersByTime(3000);
    stub.set(okState());
    expect(emitted).toBe(4);
    model.dispose();
  });

  it('copies, and says so for a while', () => {
    jest.useFakeTimers();
    const copied: string[] = [];
    const model = new PanelModel({
      model: new StubModel() as unknown as GuardModel,
      copy: text => copied.push(text)
    });
    model.copy('%guard restore a');
    expect(copied).toEqual(['%guard restore a']);
    expect(model.copied).toBe('%guard restore a');
    jest.advanceTimersByTime(COPIED_MS);
    expect(model.copied).toBeNull();
    model.dispose();
  });

  it('deletes a snapshot only once confirmed, and says when it failed', async () => {
    const stub = new StubModel();
    const errors: string[] = [];
    let answer = false;
    const model = new PanelModel({
      model: stub as unknown as GuardModel,
      confirmDelete: async () => answer,
      notifyError: message => errors.push(message)
    });

    await model.deleteSnapshot('train', 'a', 'train.ipynb');
    expect(stub.calls).toEqual([]);

    answer = true;
    const deleting = model.deleteSnapshot('train', 'a', 'train.ipynb');
    await Promise.resolve();
    expect(model.deleting.has('train/a')).toBe(true);
    await deleting;
    expect(stub.calls).toEqual(['delete train/a']);
    expect(model.deleting.size).toBe(0);

    stub.deleteError = new Error('not a snapshot name: ..');
    await model.deleteSnapshot('train', '..', 'train.ipynb');
    expect(errors).toEqual([
      'Could not delete the snapshot ..: not a snapshot name: ..'
    ]);
    model.dispose();
  });
});

describe('indicators', () => {
  it('shows a status bar item that opens the panel with a click, Enter or Space', async () => {
    const stub = new StubModel();
    let opened = 0;
    const item = await attach(
      new GuardStatusItem(
        new IndicatorModel(stub as unknown as GuardModel),
        () => (opened += 1)
      )
    );
    const text = () => find(item.node, '.jp-colab-guard-statusitem');
    expect(text().textContent).toBe('colab-guard…');
    expect(text().dataset.state).toBe('loading');

    await act(async () => stub.set(okState()));
    expect(text().textContent).toMatch(
      /^A100-SXM4-40GB · RAM 9\.0\/12\.0 GiB · idle 0[67]:\d\d$/
    );
    expect(text().getAttribute('role')).toBe('button');
    expect(text().tabIndex).toBe(0);
    expect(text().getAttribute('aria-label')).toMatch(
      /^colab-guard: 9\.0 GiB of 12\.0 GiB used; idle culling in 0[67]:\d\d\. Click to open the panel\.$/
    );
    expect(text().dataset.level).toBe('warn');

    act(() => text().click());
    for (const key of ['Enter', ' ', 'a']) {
      act(() => {
        text().dispatchEvent(
          new KeyboardEvent('keydown', { key, bubbles: true })
        );
      });
    }
    expect(opened).toBe(3);

    await act(async () =>
      stub.set({ status: 'error', failure: { kind: 'network' }, message: '' })
    );
    expect(text().textContent).toBe('colab-guard: offline');
  });

  it("shows Notebook 7's indicator as a button with each part coloured", async () => {
    const stub = new StubModel();
    let opened = 0;
    const widget = await attach(
      new GuardTopIndicator(
        new IndicatorModel(stub as unknown as GuardModel),
        () => (opened += 1)
      )
    );
    await act(async () =>
      stub.set(
        okState({
          data: resources(11 * GiB),
          sessions: {
            status: 'ok',
            data: sessions([{ seconds_to_cull: 100 }]),
            receivedAt: Date.now()
          }
        })
      )
    );
    const button = find<HTMLButtonElement>(widget.node, 'button');
    expect(button.dataset.level).toBe('critical');
    const parts = Array.from(
      button.querySelectorAll<HTMLElement>('[data-part]')
    ).map(p => [p.dataset.part, p.dataset.level]);
    expect(parts).toEqual([
      ['accelerator', 'ok'],
      ['memory', 'critical'],
      ['countdown', 'critical']
    ]);
    expect(button.textContent).toMatch(
      /^CPU · RAM 11\.0\/12\.0 GiB · idle 01:[34]\d$/
    );
    act(() => button.click());
    expect(opened).toBe(1);
  });
});
