/**
 * The sidebar panel: renders the model's state while visible, patching its
 * DOM in place, and handles its buttons (copy, delete, dismiss).
 */
import {
  Clipboard,
  Dialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { shieldIcon } from './icon';
import { GuardModel, ResourceState } from './model';
import { morphChildren } from './morph';
import { CSS, renderState } from './view';

/** DOM id of the panel (and its restorer key). */
export const PANEL_ID = 'colab-guard-panel';

/** How long a copy button reads "Copied" (ms). */
const COPIED_MS = 2000;

/** Shows everything the {@link GuardModel} knows. */
export class ResourcePanel extends Widget {
  /** Build the panel for a model (not owned: the plugin disposes it). */
  constructor(model: GuardModel) {
    super();
    this.model = model;
    this.id = PANEL_ID;
    this.addClass(`${CSS}-panel`);
    this.title.icon = shieldIcon;
    this.title.caption = 'colab-guard';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'colab-guard');
    // Focus lands here when the button that had it goes away (e.g. Dismiss).
    this.node.tabIndex = -1;
    this._content = document.createElement('div');
    this._content.className = `${CSS}-content`;
    this.node.appendChild(this._content);
    this.node.addEventListener('click', this._onClick);
    model.changed.connect(this._onChanged, this);
    this._render();
  }

  /** The model shown. */
  readonly model: GuardModel;

  /** Stop listening to the model. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._stopClock();
    this.node.removeEventListener('click', this._onClick);
    this.model.changed.disconnect(this._onChanged, this);
    super.dispose();
  }

  /** Catch up when shown: render what arrived while hidden and poll everything now. */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._render();
    this._startClock();
    void this.model.refresh(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._stopClock();
  }

  private _onChanged(_: GuardModel, _state: ResourceState): void {
    // A hidden panel is rendered when it is shown again (onAfterShow).
    if (this.isVisible) {
      this._render();
    }
  }

  /** Render the model's state, patching the live DOM. */
  private _render(): void {
    const state = this.model.state;
    const settings = this.model.settings;
    this.node.dataset.state = state.status;
    const fresh = document.createElement('div');
    fresh.append(
      ...renderState(state, {
        units: settings.units,
        historyMinutes: settings.historyMinutes,
        projectionMinutes: settings.projectionMinutes,
        now: Date.now(),
        copied: this._copied,
        dismissed: this._dismissed,
        deleting: this._deleting
      })
    );
    morphChildren(this._content, fresh);
  }

  /** Countdowns run down every second between polls while the panel is shown. */
  private _startClock(): void {
    this._stopClock();
    this._clock = window.setInterval(() => {
      if (this.isVisible && this.model.state.status === 'ok') {
        this._render();
      }
    }, 1000);
  }

  private _stopClock(): void {
    if (this._clock !== null) {
      window.clearInterval(this._clock);
      this._clock = null;
    }
  }

  /** One listener for every button, by its data-action. */
  private _onClick = (event: MouseEvent): void => {
    const target = event.target as Element | null;
    const button = target?.closest?.(
      'button[data-action]'
    ) as HTMLButtonElement | null;
    if (!button || !this.node.contains(button) || button.disabled) {
      return;
    }
    switch (button.dataset.action) {
      case 'copy':
        this._copy(button.dataset.text ?? '');
        break;
      case 'delete':
        void this._delete(
          button.dataset.snapshotKey ?? '',
          button.dataset.snapshotId ?? '',
          button.dataset.notebook ?? ''
        );
        break;
      case 'dismiss':
        this._dismissed.add(button.dataset.postmortem ?? '');
        this.node.focus();
        this._render();
        break;
    }
  };

  private _copy(text: string): void {
    if (!text) {
      return;
    }
    Clipboard.copyToSystem(text);
    this._copied = text;
    this._render();
    window.clearTimeout(this._copiedTimer);
    this._copiedTimer = window.setTimeout(() => {
      this._copied = null;
      if (!this.isDisposed) {
        this._render();
      }
    }, COPIED_MS);
  }

  private async _delete(
    key: string,
    id: string,
    notebook: string
  ): Promise<void> {
    const result = await showDialog({
      title: 'Delete snapshot?',
      body: `Delete the snapshot ${id} of ${notebook}? Its variables cannot be restored afterwards.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (!result.button.accept) {
      return;
    }
    const name = `${key}/${id}`;
    this._deleting.add(name);
    this._render();
    try {
      await this.model.deleteSnapshot(key, id);
    } catch (error) {
      Notification.error(
        `Could not delete the snapshot ${id}: ${error instanceof Error ? error.message : String(error)}`,
        { autoClose: 8000 }
      );
    } finally {
      this._deleting.delete(name);
      if (!this.isDisposed) {
        this._render();
      }
    }
  }

  private _clock: number | null = null;
  private _content: HTMLElement;
  private _copied: string | null = null;
  private _copiedTimer = 0;
  private _deleting = new Set<string>();
  private _dismissed = new Set<string>();
}
