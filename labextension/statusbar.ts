/**
 * A compact status bar item, e.g. "T4 · RAM 9.1/12.7 GiB · idle 82:10"; a
 * click (or Enter/Space: it is a real button) opens the panel.
 */
import { Widget } from '@lumino/widgets';

import {
  countdownLevel,
  cullReasonText,
  formatBytes,
  formatCountdown,
  nearestCountdown,
  statusBarText,
  IStatusCountdown
} from './format';
import { GuardModel, ResourceState } from './model';
import { CSS } from './view';

/** Status bar text fed by the shared {@link GuardModel}. */
export class ResourceStatusItem extends Widget {
  /** Build the item; `onClick` runs when it is clicked or activated. */
  constructor(model: GuardModel, onClick: () => void) {
    super({ node: document.createElement('button') });
    this._model = model;
    (this.node as HTMLButtonElement).type = 'button';
    this.addClass(`${CSS}-statusitem`);
    this.addClass('jp-StatusBar-TextItem');
    this.node.addEventListener('click', onClick);
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

  private _onChanged(_: GuardModel, state: ResourceState): void {
    let text: string;
    let title: string;
    let countdown: IStatusCountdown | null = null;
    if (state.status === 'ok') {
      const memory = state.data.host.memory;
      const units = this._model.settings.units;
      const sessions =
        state.sessions?.status === 'ok' ? state.sessions.data : null;
      countdown = nearestCountdown(sessions);
      text = statusBarText(
        state.data.accelerators,
        memory.working_set,
        memory.limit,
        units,
        countdown
      );
      title = `colab-guard: ${formatBytes(memory.working_set, units)} of ${formatBytes(memory.limit, units)} used`;
      if (countdown) {
        title += `; ${cullReasonText(countdown.reason === 'shutdown' ? 'server shutdown' : countdown.reason)} in ${formatCountdown(countdown.seconds)}`;
      }
      title += '. Click to open the panel.';
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
    this.node.dataset.level = countdown
      ? countdownLevel(countdown.seconds)
      : 'ok';
  }

  private _model: GuardModel;
}
