/**
 * A compact status bar item, e.g. "T4 · RAM 9.1/12.7 GiB"; a click opens the panel.
 */
import { Widget } from '@lumino/widgets';

import { formatBytes, statusBarText } from './format';
import { ResourceModel, ResourceState } from './model';
import { CSS } from './view';

/** Status bar text fed by the shared {@link ResourceModel}. */
export class ResourceStatusItem extends Widget {
  /** Build the item; `onClick` runs when it is clicked or activated. */
  constructor(model: ResourceModel, onClick: () => void) {
    super();
    this._model = model;
    this.addClass(`${CSS}-statusitem`);
    this.addClass('jp-StatusBar-TextItem');
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.addEventListener('click', onClick);
    this.node.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        onClick();
      }
    });
    model.changed.connect(this._onChanged, this);
    this._onChanged(model, model.state);
  }

  /** Stop listening to the model. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._onChanged, this);
    super.dispose();
  }

  private _onChanged(_: ResourceModel, state: ResourceState): void {
    let text: string;
    let title: string;
    if (state.status === 'ok') {
      const memory = state.data.host.memory;
      text = statusBarText(state.data.accelerators, memory.working_set, memory.limit);
      title = `colab-guard: ${formatBytes(memory.working_set)} of ${formatBytes(memory.limit)} used. Click to open the panel.`;
    } else if (state.status === 'error') {
      text = 'colab-guard: offline';
      title = 'colab-guard: server unreachable. Click to open the panel.';
    } else {
      text = 'colab-guard…';
      title = 'colab-guard: loading';
    }
    this.node.textContent = text;
    this.node.title = title;
    this.node.setAttribute('aria-label', title);
    this.node.dataset.state = state.status;
  }

  private _model: ResourceModel;
}
