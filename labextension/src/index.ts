/**
 * jupyter-mlops in JupyterLab: the "Pipelines" sidebar, run views and
 * comparisons in the main area, and a notebook toolbar button "Run as pipeline".
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { showErrorMessage } from '@jupyterlab/apputils';
import { DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { IRunSummary, MlopsClient } from './api';
import { CompareView } from './compare';
import { RunView } from './runview';
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
    const client = new MlopsClient(app.serviceManager.serverSettings);
    const views = new Map<string, Widget>();
    let sidePanelView: Widget | null = null;

    const show = (widget: Widget): void => {
      const open = views.get(widget.id);
      if (open && !open.isDisposed) {
        widget.dispose();
        app.shell.activateById(open.id);
        return;
      }
      views.set(widget.id, widget);
      app.shell.add(widget, 'main');
      if (!widget.isAttached) {
        // A one-document shell (Notebook 7) keeps the notebook as its only main widget: show the
        // view in the right side panel instead, one at a time.
        sidePanelView?.dispose();
        sidePanelView = widget;
        app.shell.add(widget, 'right', { rank: 1000 });
      }
      app.shell.activateById(widget.id);
    };
    const sidebar: MlopsSidebar = new MlopsSidebar(app.serviceManager.serverSettings, {
      openRun: (id: string) => show(new RunView(client, id, () => sidebar.styles)),
      compare: (runs: IRunSummary[]) => show(new CompareView(runs))
    });
    // Below the file browser, running sessions and the table of contents.
    app.shell.add(sidebar, 'left', { rank: 700 });
    restorer?.add(sidebar, MlopsSidebar.ID);
    // The palette comes with the status; a run view opened before the sidebar is shown needs it.
    void sidebar.refresh();

    app.docRegistry.addWidgetExtension(
      'Notebook',
      new RunAsPipelineButton(client, id => {
        show(new RunView(client, id, () => sidebar.styles));
        void sidebar.refreshRuns();
      })
    );
  }
};

/** "Run as pipeline": save the notebook, submit its path, open the run's view. */
class RunAsPipelineButton implements DocumentRegistry.WidgetExtension {
  constructor(
    private readonly _client: MlopsClient,
    private readonly _open: (runId: string) => void
  ) {}

  createNew(widget: Widget, context: DocumentRegistry.Context): IDisposable {
    if (!(widget instanceof DocumentWidget)) {
      return new DisposableDelegate(() => undefined);
    }
    const button = new ToolbarButton({
      className: 'jp-mlops-run-as-pipeline',
      label: 'Run as pipeline',
      tooltip: 'Save this notebook and run its %%component cells as a pipeline',
      onClick: () => void this._run(context, button)
    });
    widget.toolbar.insertItem(10, 'mlopsRunAsPipeline', button);
    return new DisposableDelegate(() => button.dispose());
  }

  private async _run(context: DocumentRegistry.Context, button: ToolbarButton): Promise<void> {
    button.enabled = false;
    try {
      await context.save();
      const run = await this._client.submitNotebook(context.path);
      this._open(run.id);
    } catch (error) {
      // A dialog, not window.alert: it does not block the page, and the message (which names the
      // cell, line and name at fault) can be selected and copied.
      const message = error instanceof Error ? error.message : String(error);
      void showErrorMessage(`Could not run ${context.path} as a pipeline`, message);
    } finally {
      button.enabled = true;
    }
  }
}

export default plugin;
