/**
 * Notifications (JupyterLab's and Notebook 7's) for the alerts of
 * `alerts.ts`, each once per episode (see `episodes.ts`).
 */
import { Clipboard, Notification } from '@jupyterlab/apputils';
import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';

import { loadBundle } from '../i18n';
import type { GuardModel } from '../model/guard';
import type { ResourceState } from '../model/state';
import { collectAlerts, IAlert } from './alerts';
import { EpisodeTracker } from './episodes';

/** Turns the model's answers into notifications. */
export class GuardNotifier implements IDisposable {
  /** Listen to the model; `openPanel` backs the notifications' action. */
  constructor(
    model: GuardModel,
    openPanel: () => void,
    translator?: ITranslator | null
  ) {
    this._model = model;
    this._openPanel = openPanel;
    this._trans = loadBundle(translator);
    model.changed.connect(this._onChanged, this);
  }

  /** Whether it is disposed. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Stop listening. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._model.changed.disconnect(this._onChanged, this);
  }

  private _onChanged(model: GuardModel, state: ResourceState): void {
    // While the server does not answer nothing is known: episodes neither start nor end.
    if (state.status !== 'ok') {
      return;
    }
    const alerts = collectAlerts(
      this._trans,
      {
        resources: state.data,
        sessions: state.sessions?.status === 'ok' ? state.sessions.data : null,
        postmortems:
          state.postmortems?.status === 'ok' ? state.postmortems.data : null
      },
      model.settings
    );
    const started = new Set(this._tracker.update(alerts.map(a => a.key)));
    for (const alert of alerts) {
      if (started.has(alert.key)) {
        this._notify(alert);
      }
    }
  }

  private _notify(alert: IAlert): void {
    const actions: Notification.IAction[] = [];
    if (alert.restore) {
      const restore = alert.restore;
      actions.push({
        label: this._trans.__('Copy restore command'),
        caption: restore,
        displayType: 'accent',
        callback: () => Clipboard.copyToSystem(restore)
      });
    }
    actions.push({
      label: this._trans.__('Open colab-guard'),
      callback: () => this._openPanel()
    });
    Notification.emit(alert.message, alert.type, {
      // Deaths and coming shutdowns stay until dismissed; the rest fade.
      autoClose:
        alert.type === 'error' || alert.kind === 'idle' ? false : 10000,
      actions
    });
  }

  private _isDisposed = false;
  private _model: GuardModel;
  private _openPanel: () => void;
  private _trans: TranslationBundle;
  /** Two clear polls end an episode, so a value hovering at its threshold does not fire again and again. */
  private _tracker = new EpisodeTracker({ clearAfter: 2 });
}
