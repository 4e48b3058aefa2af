/**
 * colab-guard front end: a sidebar panel, a compact indicator and
 * notifications, all fed by one poller of the server's colab-guard endpoints.
 *
 * In JupyterLab the indicator is a status bar item; in Notebook 7, which has
 * no status bar, it sits at the top of every notebook page, and the panel in
 * the page's right sidebar. Only optional tokens are required, so the plugin
 * activates in both.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';

import { loadBundle } from './i18n';
import { shieldIcon } from './icon';
import { GuardModel } from './model/guard';
import { GuardNotifier } from './notifications/notifier';
import { readSettings } from './settings';
import {
  GuardStatusItem,
  GuardTopIndicator,
  IndicatorModel
} from './widgets/indicator';
import { GuardPanel, PANEL_ID } from './widgets/panel';
import { PanelModel } from './widgets/panelmodel';

/** Command ids. */
export namespace CommandIDs {
  /** Reveal the colab-guard panel. */
  export const open = 'colab-guard:open';
  /** Poll every endpoint now. */
  export const refresh = 'colab-guard:refresh';
}

/** The plugin id (also the settings schema's: labextension/schema/plugin.json). */
export const PLUGIN_ID = 'colab-guard:plugin';

/** Whether this page is a Notebook 7 notebook page (`/notebooks/<path>`). */
function isNotebookPage(labShell: ILabShell | null): boolean {
  return !labShell && PageConfig.getOption('notebookPage') === 'notebooks';
}

/** The main plugin. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Accelerator, memory, sessions and snapshots of the Jupyter server, in a sidebar panel, a compact indicator and notifications.',
  autoStart: true,
  optional: [
    ITranslator,
    ICommandPalette,
    ILayoutRestorer,
    IStatusBar,
    ISettingRegistry,
    ILabShell
  ],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    statusBar: IStatusBar | null,
    settingRegistry: ISettingRegistry | null,
    labShell: ILabShell | null
  ) => {
    const trans = loadBundle(translator);
    // Polling starts once the user's settings are known, so that the first
    // poll already uses their interval and warning levels.
    const model = new GuardModel({
      serverSettings: app.serviceManager.serverSettings,
      auto: false
    });
    const panel = new GuardPanel({
      model: new PanelModel({ model, translator }),
      translator
    });
    app.shell.add(panel, 'right', { rank: 900 });
    restorer?.add(panel, PANEL_ID);

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('colab-guard: Show Panel'),
      caption: trans.__('Open the colab-guard panel'),
      icon: shieldIcon,
      execute: () => {
        // Notebook 7 opens its right sidebar for it.
        app.shell.activateById(PANEL_ID);
      }
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: trans.__('colab-guard: Refresh Now'),
      caption: trans.__('Ask the server for every colab-guard figure now'),
      execute: () => model.refresh(true)
    });
    const category = trans.__('colab-guard');
    // the panel first: typing "colab-guard" and Enter opens it (equal matches go by rank)
    palette?.addItem({ command: CommandIDs.open, category, rank: 0 });
    palette?.addItem({ command: CommandIDs.refresh, category, rank: 1 });
    const open = () => void app.commands.execute(CommandIDs.open);

    const indicator = new IndicatorModel(model, translator);
    if (statusBar) {
      statusBar.registerStatusItem('colab-guard:status', {
        item: new GuardStatusItem(indicator, open),
        align: 'left',
        rank: 100
      });
    } else if (isNotebookPage(labShell)) {
      app.shell.add(new GuardTopIndicator(indicator, open), 'top', {
        rank: 1000
      });
    }

    new GuardNotifier(model, open, translator);

    const start = () => void model.start();
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () =>
            model.configure(readSettings(settings.composite as any));
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            'colab-guard: could not load the settings; using the defaults.',
            reason
          );
        })
        .then(start);
    } else {
      start();
    }
  }
};

export default plugin;
