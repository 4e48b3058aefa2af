/**
 * colab-guard front end: a sidebar panel (and a status bar item) showing the
 * accelerator, memory, CPU and disk figures of the Jupyter server's host.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';

import { shieldIcon } from './icon';
import { ResourceModel } from './model';
import { PANEL_ID, ResourcePanel } from './panel';
import { ResourceStatusItem } from './statusbar';

/** Command ids. */
export namespace CommandIDs {
  /** Reveal the colab-guard panel. */
  export const open = 'colab-guard:open';
}

/** The main plugin. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'colab-guard:plugin',
  description:
    'Accelerator, memory, CPU and disk of the Jupyter server host, in a sidebar panel.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    statusBar: IStatusBar | null
  ) => {
    const model = new ResourceModel({
      serverSettings: app.serviceManager.serverSettings
    });
    const panel = new ResourcePanel(model);
    app.shell.add(panel, 'right', { rank: 900 });
    restorer?.add(panel, PANEL_ID);

    app.commands.addCommand(CommandIDs.open, {
      label: 'colab-guard: Show Resources Panel',
      caption: 'Open the colab-guard panel',
      icon: shieldIcon,
      execute: () => {
        app.shell.activateById(PANEL_ID);
      }
    });
    palette?.addItem({ command: CommandIDs.open, category: 'colab-guard' });

    if (statusBar) {
      const item = new ResourceStatusItem(model, () => {
        void app.commands.execute(CommandIDs.open);
      });
      statusBar.registerStatusItem('colab-guard:status', {
        item,
        align: 'left',
        rank: 100
      });
    }

    console.log('JupyterLab extension colab-guard is activated!');
  }
};

export default plugin;
