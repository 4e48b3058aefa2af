/**
 * The compact indicators: JupyterLab's status bar item (a `VDomRenderer`
 * rendering a `TextItem`, as jupyter-resource-usage does) and, in Notebook 7,
 * which has no status bar, a button at the top of the notebook page. Both
 * open the panel.
 */
import { TextItem } from '@jupyterlab/statusbar';
import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { VDomModel, VDomRenderer } from '@jupyterlab/ui-components';
import * as React from 'react';

import { CSS } from '../components/common';
import {
  IIndicatorText,
  Indicator,
  indicatorText
} from '../components/indicator';
import { loadBundle } from '../i18n';
import type { GuardModel } from '../model/guard';
import { selectIndicator } from '../model/selectors';

/** The status bar item (data-state, data-level). */
export const STATUS_ITEM_CLASS = `${CSS}-statusitem`;
/** The widget holding the Notebook 7 indicator. */
export const TOP_INDICATOR_CLASS = `${CSS}-top-indicator`;

/** The summary of the model's latest state; changes with every poll. */
export class IndicatorModel extends VDomModel {
  /** Follow a model (not owned). */
  constructor(model: GuardModel, translator?: ITranslator | null) {
    super();
    this.guard = model;
    this.trans = loadBundle(translator);
    model.changed.connect(this._onChanged, this);
  }

  /** The model followed. */
  readonly guard: GuardModel;

  /** The bundle of colab-guard's strings. */
  readonly trans: TranslationBundle;

  /** The state's status: loading, ok or error. */
  get status(): string {
    return this.guard.state.status;
  }

  /** The summary now, in words (countdowns run down to the present). */
  get summary(): IIndicatorText {
    return indicatorText(
      this.trans,
      selectIndicator(this.guard.state, Date.now()),
      this.guard.settings.units
    );
  }

  /** Stop following the model. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.guard.changed.disconnect(this._onChanged, this);
    super.dispose();
  }

  private _onChanged(): void {
    this.stateChanged.emit();
  }
}

/** Open on Enter or Space, as a button does. */
function onKey(open: () => void) {
  return (event: React.KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      open();
    }
  };
}

/** JupyterLab's status bar item: "T4 · RAM 9.1/12.7 GiB · idle 82:10". */
export class GuardStatusItem extends VDomRenderer<IndicatorModel> {
  /** `onOpen` runs on a click, Enter or Space. */
  constructor(
    model: IndicatorModel,
    private readonly _onOpen: () => void
  ) {
    super(model);
    this.addClass(`${CSS}-statusbar`);
  }

  protected render(): JSX.Element {
    const summary = this.model.summary;
    return (
      <TextItem
        className={STATUS_ITEM_CLASS}
        source={summary.text}
        title={summary.title}
        role="button"
        tabIndex={0}
        aria-label={summary.title}
        data-state={this.model.status}
        data-level={summary.level}
        onClick={this._onOpen}
        onKeyDown={onKey(this._onOpen)}
      />
    );
  }
}

/** Notebook 7's indicator, at the top of the notebook page. */
export class GuardTopIndicator extends VDomRenderer<IndicatorModel> {
  /** `onOpen` runs on a click, Enter or Space (it is a real button). */
  constructor(
    model: IndicatorModel,
    private readonly _onOpen: () => void
  ) {
    super(model);
    this.id = 'colab-guard-top-indicator';
    this.addClass(TOP_INDICATOR_CLASS);
  }

  protected render(): JSX.Element {
    return (
      <Indicator
        summary={this.model.summary}
        state={this.model.status}
        onOpen={this._onOpen}
      />
    );
  }
}
