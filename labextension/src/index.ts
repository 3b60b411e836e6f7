/**
 * jupyter-mlops in JupyterLab: adds the "Pipelines" panel to the left sidebar.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { MlopsSidebar } from './sidebar';

export { requestAPI } from './request';
export { fetchStatus, IBackendStatus } from './status';
export { MlopsSidebar } from './sidebar';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlops:plugin',
  description: 'The Pipelines sidebar of jupyter-mlops.',
  autoStart: true,
  optional: [ILayoutRestorer],
  activate: (app: JupyterFrontEnd, restorer: ILayoutRestorer | null): void => {
    const sidebar = new MlopsSidebar(app.serviceManager.serverSettings);
    // Below the file browser, running sessions and the table of contents.
    app.shell.add(sidebar, 'left', { rank: 700 });
    restorer?.add(sidebar, MlopsSidebar.ID);
  }
};

export default plugin;
