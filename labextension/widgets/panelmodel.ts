/**
 * The panel's view model: the {@link GuardModel}'s state, plus what only the
 * panel knows (the clock its countdowns run down by, what was copied, which
 * snapshots are being deleted, which banners were dismissed), and what its
 * buttons do. Its sections re-render on `stateChanged`, which is emitted only
 * while the panel is shown.
 */
import {
  Clipboard,
  Dialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { VDomModel } from '@jupyterlab/ui-components';

import type {
  IPanelActions,
  IPanelUiState,
  IViewOptions
} from '../components/common';
import { loadBundle } from '../i18n';
import type { GuardModel } from '../model/guard';
import type { ResourceState } from '../model/state';
import type { IGuardSettings } from '../settings';

/** How long a copy button reads "Copied" (ms). */
export const COPIED_MS = 2000;

/** How often the countdowns run down while the panel is shown (ms). */
export const CLOCK_MS = 1000;

/** What the panel shows and does. */
export class PanelModel
  extends VDomModel
  implements IPanelActions, IPanelUiState
{
  /** Follow a model (not owned: the plugin disposes it). */
  constructor(options: PanelModel.IOptions) {
    super();
    this.guard = options.model;
    this.trans = loadBundle(options.translator);
    this._copyText = options.copy ?? (text => Clipboard.copyToSystem(text));
    this._confirm = options.confirmDelete ?? (args => this._ask(args));
    this._notifyError =
      options.notifyError ??
      (message => void Notification.error(message, { autoClose: 8000 }));
    this.guard.changed.connect(this._onGuardChanged, this);
  }

  /** The model polled. */
  readonly guard: GuardModel;

  /** The bundle of colab-guard's strings. */
  readonly trans: TranslationBundle;

  /** The model's latest state. */
  get state(): ResourceState {
    return this.guard.state;
  }

  /** The settings in force. */
  get settings(): Readonly<IGuardSettings> {
    return this.guard.settings;
  }

  /** The client clock (ms) of the latest render. */
  get now(): number {
    return this._now;
  }

  /** What the views need besides the payloads. */
  get options(): IViewOptions {
    const settings = this.guard.settings;
    return {
      trans: this.trans,
      units: settings.units,
      historyMinutes: settings.historyMinutes,
      projectionMinutes: settings.projectionMinutes,
      now: this._now
    };
  }

  /** The text most recently copied. */
  get copied(): string | null {
    return this._copied;
  }

  /** "key/id" of the snapshots being deleted. */
  get deleting(): ReadonlySet<string> {
    return this._deleting;
  }

  /** Keys of the dismissed post-mortems. */
  get dismissed(): ReadonlySet<string> {
    return this._dismissed;
  }

  /**
   * Whether the panel is shown. Shown, it renders what arrived while hidden,
   * asks the server for everything now, and runs its countdowns down every
   * second; hidden, it neither renders nor ticks.
   */
  get active(): boolean {
    return this._active;
  }
  set active(value: boolean) {
    if (value === this._active || this.isDisposed) {
      return;
    }
    this._active = value;
    window.clearInterval(this._clock);
    if (value) {
      this._clock = window.setInterval(() => {
        if (this.state.status === 'ok') {
          this._emit();
        }
      }, CLOCK_MS);
      this._emit();
      void this.guard.refresh(true);
    }
  }

  /** Copy a command; its button reads "Copied" for a while. */
  copy(text: string): void {
    if (!text) {
      return;
    }
    this._copyText(text);
    this._copied = text;
    this._emit();
    window.clearTimeout(this._copiedTimer);
    this._copiedTimer = window.setTimeout(() => {
      this._copied = null;
      this._emit();
    }, COPIED_MS);
  }

  /** Hide a post-mortem banner. */
  dismiss(key: string): void {
    this._dismissed.add(key);
    this._emit();
  }

  /** Ask, then delete a snapshot; a failure is notified. */
  async deleteSnapshot(
    key: string,
    id: string,
    notebook: string
  ): Promise<void> {
    if (!(await this._confirm({ key, id, notebook }))) {
      return;
    }
    const name = `${key}/${id}`;
    this._deleting.add(name);
    this._emit();
    try {
      await this.guard.deleteSnapshot(key, id);
    } catch (error) {
      this._notifyError(
        this.trans.__(
          'Could not delete the snapshot %1: %2',
          id,
          error instanceof Error ? error.message : String(error)
        )
      );
    } finally {
      this._deleting.delete(name);
      this._emit();
    }
  }

  /** Stop the clock and the timers, and stop following the model. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearInterval(this._clock);
    window.clearTimeout(this._copiedTimer);
    this.guard.changed.disconnect(this._onGuardChanged, this);
    super.dispose();
  }

  private _onGuardChanged(): void {
    if (this._active) {
      this._emit();
    }
  }

  private _emit(): void {
    if (this.isDisposed) {
      return;
    }
    this._now = Date.now();
    this.stateChanged.emit();
  }

  private async _ask(args: PanelModel.IDeleteArgs): Promise<boolean> {
    const trans = this.trans;
    const result = await showDialog({
      title: trans.__('Delete snapshot?'),
      body: trans.__(
        'Delete the snapshot %1 of %2? Its variables cannot be restored afterwards.',
        args.id,
        args.notebook
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Delete') })
      ]
    });
    return result.button.accept;
  }

  private _active = false;
  private _clock = 0;
  private _confirm: (args: PanelModel.IDeleteArgs) => Promise<boolean>;
  private _copied: string | null = null;
  private _copiedTimer = 0;
  private _copyText: (text: string) => void;
  private _deleting = new Set<string>();
  private _dismissed = new Set<string>();
  private _notifyError: (message: string) => void;
  private _now = Date.now();
}

/** Options of {@link PanelModel}. */
export namespace PanelModel {
  /** Which snapshot to delete. */
  export interface IDeleteArgs {
    key: string;
    id: string;
    /** Its notebook's name, for the question. */
    notebook: string;
  }

  /** Construction options. */
  export interface IOptions {
    /** The model to show. */
    model: GuardModel;
    translator?: ITranslator | null;
    /** Put text on the clipboard (JupyterLab's clipboard by default). */
    copy?: (text: string) => void;
    /** Ask before deleting (a JupyterLab dialog by default). */
    confirmDelete?: (args: IDeleteArgs) => Promise<boolean>;
    /** Say that something failed (a notification by default). */
    notifyError?: (message: string) => void;
  }
}
