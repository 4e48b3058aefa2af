/**
 * The sidebar panel: renders the model's state while visible.
 */
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { shieldIcon } from './icon';
import { ResourceModel, ResourceState } from './model';
import { CSS, renderState } from './view';

/** DOM id of the panel (and its restorer key). */
export const PANEL_ID = 'colab-guard-panel';

/** Shows accelerator, memory, CPU and disk figures from a {@link ResourceModel}. */
export class ResourcePanel extends Widget {
  /** Build the panel for a model (not owned: the plugin disposes it). */
  constructor(model: ResourceModel) {
    super();
    this.model = model;
    this.id = PANEL_ID;
    this.addClass(`${CSS}-panel`);
    this.title.icon = shieldIcon;
    this.title.caption = 'colab-guard';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'colab-guard');
    this._content = document.createElement('div');
    this._content.className = `${CSS}-content`;
    this.node.appendChild(this._content);
    model.changed.connect(this._onChanged, this);
    this._render(model.state);
  }

  /** The model shown. */
  readonly model: ResourceModel;

  /** Stop listening to the model. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._onChanged, this);
    super.dispose();
  }

  /** Catch up when shown: render what arrived while hidden and poll now. */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._dirty) {
      this._render(this.model.state);
    }
    void this.model.refresh();
  }

  private _onChanged(_: ResourceModel, state: ResourceState): void {
    if (this.isVisible) {
      this._render(state);
    } else {
      this._dirty = true;
    }
  }

  private _render(state: ResourceState): void {
    this._dirty = false;
    this.node.dataset.state = state.status;
    this._content.replaceChildren(...renderState(state));
  }

  private _content: HTMLElement;
  private _dirty = false;
}
