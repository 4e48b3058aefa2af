/**
 * The sidebar panel, built as JupyterLab's own sidebars are: a `SidePanel`
 * with a refresh button in its toolbar, a header (the failure, the
 * environment, a banner per kernel that died) and one `PanelWithToolbar`
 * section per topic in its accordion, each a `ReactWidget` that re-renders
 * through `UseSignal` when the {@link PanelModel} changes.
 */
import type { ITranslator } from '@jupyterlab/translation';
import {
  LabIcon,
  PanelWithToolbar,
  ReactWidget,
  refreshIcon,
  SidePanel,
  UseSignal
} from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import type { AccordionPanel } from '@lumino/widgets';
import * as React from 'react';

import { CSS, IPanelActions } from '../components/common';
import { PanelHeader } from '../components/header';
import {
  AcceleratorBody,
  CpuBody,
  DiskBody,
  MemoryBody
} from '../components/resources';
import { SessionsBody } from '../components/sessions';
import { SnapshotsBody } from '../components/snapshots';
import { shieldIcon } from '../icon';
import { loadBundle } from '../i18n';
import type { IOkState, ResourceState } from '../model/state';
import { PanelModel } from './panelmodel';

/** DOM id of the panel (and its restorer key). */
export const PANEL_ID = 'colab-guard-panel';
/** The panel (data-state: loading, ok or error). */
export const PANEL_CLASS = `${CSS}-panel`;
/** The panel's header. */
export const HEADER_CLASS = `${CSS}-header`;
/** One section of the panel (data-section: its key). */
export const SECTION_CLASS = `${CSS}-section`;
/** The React part of a section or of the header. */
export const VIEW_CLASS = `${CSS}-view`;
/** A button of the panel's toolbar. */
export const TOOLBAR_BUTTON_CLASS = `${CSS}-toolbar-button`;

/** A part of the panel rendered by React from the panel model. */
class ModelView extends ReactWidget {
  constructor(
    readonly model: PanelModel,
    private readonly _render: (model: PanelModel) => React.ReactNode
  ) {
    super();
    this.addClass(VIEW_CLASS);
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this.model.stateChanged} initialSender={this.model}>
        {() => this._render(this.model)}
      </UseSignal>
    );
  }
}

/**
 * A toolbar button: a native <button> with an icon and an accessible name
 * (JupyterLab's ToolbarButton renders a <jp-button> carrying aria-pressed,
 * which axe reports as an ARIA attribute its role does not allow).
 */
export class ToolbarIconButton extends ReactWidget {
  constructor(
    private readonly _options: {
      icon: LabIcon;
      label: string;
      onClick: () => void;
    }
  ) {
    super();
    this.addClass('jp-ToolbarButton');
    this.addClass(TOOLBAR_BUTTON_CLASS);
  }

  protected render(): JSX.Element {
    const { icon, label, onClick } = this._options;
    return (
      <button
        type="button"
        className="jp-Button jp-mod-minimal"
        aria-label={label}
        title={label}
        onClick={onClick}
      >
        <icon.react tag="span" className="jp-ToolbarButtonComponent-icon" />
      </button>
    );
  }
}

/** The least height a section is given when fitting the panel to content. */
const MIN_SECTION_HEIGHT = 48;
/** Where the collapsed sections are remembered (in this browser). */
const COLLAPSED_KEY = 'colab-guard:collapsed-sections';

/**
 * Heights for sections that need `wanted` in `available`: each gets what it
 * needs where all fit (the last one the room left over); otherwise the small
 * ones still get theirs and the large ones share the rest equally (a water
 * level), scrolling inside.
 */
export function fitHeights(wanted: number[], available: number): number[] {
  const total = wanted.reduce((a, b) => a + b, 0);
  if (available <= 0) {
    return wanted;
  }
  if (total <= available) {
    // the room left over goes to the last section (the snapshot list grows)
    return wanted.map((h, i) =>
      i === wanted.length - 1 ? h + available - total : h
    );
  }
  const sorted = [...wanted].sort((a, b) => a - b);
  let left = available;
  let level = 0;
  for (let i = 0; i < sorted.length; i++) {
    const share = left / (sorted.length - i);
    if (sorted[i] > share) {
      level = share;
      break;
    }
    left -= sorted[i];
    level = sorted[i];
  }
  return wanted.map(h => Math.min(h, level));
}

/** The keys of the sections the user collapsed. */
function readCollapsed(): Set<string> {
  try {
    const value = JSON.parse(
      window.localStorage.getItem(COLLAPSED_KEY) ?? '[]'
    );
    return new Set(
      Array.isArray(value) ? value.filter(k => typeof k === 'string') : []
    );
  } catch {
    return new Set();
  }
}

/** What a section of the panel is. */
export interface ISectionSpec {
  /** Its key (data-section, and part of its id). */
  key: string;
  /** Its title. */
  label: string;
  /** Its body, for an answered state. */
  render: (model: PanelModel, state: IOkState) => React.ReactNode;
  /** Whether it is shown (e.g. not for an endpoint the server lacks). */
  present?: (state: IOkState) => boolean;
  /** Its share of the panel's height, relative to the others'. */
  weight: number;
}

/** One section: a titled accordion item whose body is rendered by React. */
export class GuardSection extends PanelWithToolbar {
  constructor(
    model: PanelModel,
    readonly spec: ISectionSpec
  ) {
    super();
    this.id = `colab-guard-section-${spec.key}`;
    this.addClass(SECTION_CLASS);
    this.node.dataset.section = spec.key;
    // The section scrolls: keyboard users scroll it once it has the focus.
    this.node.tabIndex = 0;
    this.title.label = spec.label;
    this.addWidget(
      new ModelView(model, m =>
        m.state.status === 'ok' ? spec.render(m, m.state) : null
      )
    );
  }
}

/** The sections, in order. */
function sectionSpecs(
  model: PanelModel,
  actions: IPanelActions
): ISectionSpec[] {
  const trans = model.trans;
  const ui = model;
  const available = (status?: string) =>
    status !== undefined && status !== 'absent';
  return [
    {
      key: 'accelerator',
      weight: 3,
      label: trans.__('Accelerator'),
      render: (m, s) => (
        <AcceleratorBody
          data={s.data}
          history={s.history}
          options={m.options}
        />
      )
    },
    {
      key: 'memory',
      weight: 2,
      label: trans.__('Memory'),
      render: (m, s) => (
        <MemoryBody state={s} settings={m.settings} options={m.options} />
      )
    },
    {
      key: 'sessions',
      weight: 3,
      label: trans.__('Sessions'),
      render: (m, s) => <SessionsBody state={s.sessions} options={m.options} />,
      present: s => available(s.sessions?.status)
    },
    {
      key: 'cpu',
      weight: 1,
      label: trans.__('CPU'),
      render: (m, s) => <CpuBody data={s.data} options={m.options} />
    },
    {
      key: 'disk',
      weight: 2,
      label: trans.__('Disk'),
      render: (m, s) => <DiskBody data={s.data} options={m.options} />
    },
    {
      key: 'snapshots',
      weight: 2,
      label: trans.__('Snapshots'),
      render: (m, s) => (
        <SnapshotsBody
          state={s.snapshots}
          options={m.options}
          ui={ui}
          actions={actions}
        />
      ),
      present: s => available(s.snapshots?.status)
    }
  ];
}

/** Everything the {@link GuardModel} knows, in the sidebar. */
export class GuardPanel extends SidePanel {
  /** Build the panel for a panel model (owned: disposed with the panel). */
  constructor(options: GuardPanel.IOptions) {
    super({ translator: options.translator ?? undefined });
    const model = (this.model = options.model);
    const trans = loadBundle(options.translator);
    this.id = PANEL_ID;
    this.addClass(PANEL_CLASS);
    this.title.icon = shieldIcon;
    this.title.caption = trans.__('colab-guard');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('colab-guard'));
    // Focus lands here when the button that had it goes away (e.g. Dismiss).
    this.node.tabIndex = -1;

    this.toolbar.addItem(
      'refresh',
      new ToolbarIconButton({
        icon: refreshIcon,
        label: trans.__('Refresh now'),
        onClick: () => void model.guard.refresh(true)
      })
    );

    const actions: IPanelActions = {
      copy: text => model.copy(text),
      deleteSnapshot: (key, id, notebook) =>
        void model.deleteSnapshot(key, id, notebook),
      dismiss: key => {
        model.dismiss(key);
        this.node.focus();
      }
    };
    const header = new ModelView(model, m => (
      <PanelHeader
        state={m.state}
        options={m.options}
        ui={m}
        actions={actions}
      />
    ));
    header.addClass(HEADER_CLASS);
    this.header.addWidget(header);

    this._sections = sectionSpecs(model, actions).map(
      spec => new GuardSection(model, spec)
    );
    model.stateChanged.connect(this._layOut, this);
    const content = this.content as AccordionPanel;
    // a section the user resized keeps its size: no more fitting to content
    content.handleMoved.connect(() => (this._userSized = true));
    content.expansionToggled.connect(this._rememberCollapsed, this);
    this._layOut();
  }

  /** The panel model shown. */
  readonly model: PanelModel;

  /** The sections, whether shown or not. */
  get sections(): ReadonlyArray<GuardSection> {
    return this._sections;
  }

  /** Dispose the sections and the panel model. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.stateChanged.disconnect(this._layOut, this);
    (this.content as AccordionPanel).expansionToggled.disconnect(
      this._rememberCollapsed,
      this
    );
    super.dispose();
    this._sections.forEach(s => s.dispose());
    this.model.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    // Restored open at page load, a panel is attached shown: no after-show.
    this.model.active = this.isVisible;
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.active = false;
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.active = true;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.active = false;
  }

  /**
   * Show the sections the state has data for: none while there is no answer
   * (the header says why), and not those of endpoints the server lacks.
   */
  private _layOut(): void {
    const state: ResourceState = this.model.state;
    this.node.dataset.state = state.status;
    this.content.setHidden(state.status !== 'ok');
    if (state.status !== 'ok') {
      return;
    }
    const shown = this._sections.filter(
      s => !s.spec.present || s.spec.present(state)
    );
    const content = this.content as AccordionPanel;
    if (
      shown.length === content.widgets.length &&
      shown.every((section, i) => content.widgets[i] === section)
    ) {
      this._scheduleFit();
      return;
    }
    shown.forEach((section, i) => content.insertWidget(i, section));
    for (const section of this._sections) {
      if (!shown.includes(section) && section.parent) {
        section.parent = null;
      }
    }
    // The user's own sizes are kept until the set of sections changes.
    content.setRelativeSizes(shown.map(s => s.spec.weight));
    this._userSized = false;
    this._fitted = null;
    const collapsed = readCollapsed();
    shown.forEach((section, i) => {
      if (collapsed.has(section.spec.key)) {
        content.collapse(i);
      }
    });
    this._scheduleFit();
  }

  /** Fit the sections to their content once the browser has laid it out. */
  private _scheduleFit(): void {
    if (this._userSized || this._fitPending) {
      return;
    }
    this._fitPending = true;
    const frame =
      typeof requestAnimationFrame === 'function'
        ? requestAnimationFrame
        : (callback: () => void) => setTimeout(callback, 16);
    // two frames: React renders in the first, the browser lays it out before the second
    frame(() =>
      frame(() => {
        this._fitPending = false;
        this._fitToContent();
      })
    );
  }

  /**
   * Share the panel's height by what each section holds, not evenly: a long
   * snapshot list gets the room a one-line CPU section does not need.
   */
  private _fitToContent(): void {
    if (this._userSized || this.isDisposed || !this.isVisible) {
      return;
    }
    const content = this.content as AccordionPanel;
    const heights = content.widgets.map(widget => {
      const body = widget.node.querySelector(`.${VIEW_CLASS}`);
      return Math.max(MIN_SECTION_HEIGHT, body?.scrollHeight ?? 0);
    });
    if (heights.every(h => h <= MIN_SECTION_HEIGHT)) {
      return; // not laid out (hidden, or no layout engine)
    }
    const titles = Array.from(
      content.node.querySelectorAll<HTMLElement>('.lm-AccordionPanel-title')
    ).reduce((sum, title) => sum + title.offsetHeight, 0);
    const sizes = fitHeights(heights, content.node.clientHeight - titles);
    const last = this._fitted;
    if (
      last &&
      last.length === heights.length &&
      last.every((h, i) => Math.abs(h - heights[i]) < 8)
    ) {
      return;
    }
    this._fitted = heights;
    content.setRelativeSizes(sizes);
  }

  /** Remember which sections the user collapsed, for the next page load. */
  private _rememberCollapsed(): void {
    const content = this.content as AccordionPanel;
    const collapsed = readCollapsed();
    content.widgets.forEach(widget => {
      const key = (widget as GuardSection).spec.key;
      if (widget.isHidden) {
        collapsed.add(key);
      } else {
        collapsed.delete(key);
      }
    });
    try {
      window.localStorage.setItem(
        COLLAPSED_KEY,
        JSON.stringify([...collapsed])
      );
    } catch {
      // storage full or disabled: the sections open expanded next time
    }
    this._scheduleFit();
  }

  private _sections: GuardSection[];
  private _userSized = false;
  private _fitPending = false;
  private _fitted: number[] | null = null;
}

/** Options of {@link GuardPanel}. */
export namespace GuardPanel {
  /** Construction options. */
  export interface IOptions {
    model: PanelModel;
    translator?: ITranslator | null;
  }
}
