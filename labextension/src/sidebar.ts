/**
 * The "Pipelines" panel in JupyterLab's left sidebar. For now it shows which
 * backend the server runs pipelines on and whether that backend is reachable;
 * the list of runs is added to `runsNode` by a later change.
 */
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { fetchStatus, IBackendStatus } from './status';

/** A small DAG: three nodes, two edges. */
const PIPELINE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <circle cx="5" cy="12" r="3"/><circle cx="19" cy="5" r="3"/><circle cx="19" cy="19" r="3"/>
    <path d="M7.6 10.6 16.4 6.4l.8 1.6-8.8 4.2zM7.6 13.4l.8-1.6 8.8 4.2-.8 1.6z"/>
  </g>
</svg>`;

export const pipelineIcon = new LabIcon({ name: 'jupyter-mlops:pipeline', svgstr: PIPELINE_SVG });

/** What the status light shows: not asked yet, an answer, or why there is none. */
type StatusView =
  | { kind: 'checking' }
  | { kind: 'answer'; status: IBackendStatus }
  | { kind: 'error'; message: string };

export class MlopsSidebar extends Widget {
  static readonly ID = 'jupyter-mlops:sidebar';

  constructor(serverSettings: ServerConnection.ISettings) {
    super();
    this._serverSettings = serverSettings;
    this.id = MlopsSidebar.ID;
    this.addClass('jp-mlops-sidebar');
    this.title.icon = pipelineIcon;
    this.title.caption = 'Pipelines';

    const header = document.createElement('header');
    header.className = 'jp-mlops-sidebar-header';
    const heading = document.createElement('h2');
    heading.textContent = 'Pipelines';
    const refresh = document.createElement('button');
    refresh.className = 'jp-mlops-refresh jp-Button jp-mod-minimal';
    refresh.type = 'button';
    refresh.title = 'Check the backend again';
    refresh.textContent = '\u21bb';
    refresh.addEventListener('click', () => void this.refresh());
    header.append(heading, refresh);

    this._statusNode.className = 'jp-mlops-status';
    this._lightNode.className = 'jp-mlops-light';
    this._backendNode.className = 'jp-mlops-backend';
    this._stateNode.className = 'jp-mlops-state';
    this._statusNode.append(this._lightNode, this._backendNode, this._stateNode);

    this.runsNode.className = 'jp-mlops-runs';
    this.node.append(header, this._statusNode, this.runsNode);
    this._render({ kind: 'checking' });
  }

  /** Where a later change lists the runs. */
  readonly runsNode: HTMLElement = document.createElement('div');

  /** Ask the server for the backend status and show the answer. */
  async refresh(): Promise<void> {
    const ticket = ++this._requests;
    this._render({ kind: 'checking' });
    let view: StatusView;
    try {
      view = { kind: 'answer', status: await fetchStatus(this._serverSettings) };
    } catch (error) {
      view = { kind: 'error', message: error instanceof Error ? error.message : String(error) };
    }
    // A slower, older request must not overwrite a newer answer.
    if (ticket === this._requests && !this.isDisposed) {
      this._render(view);
    }
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  private _render(view: StatusView): void {
    let reachable: string;
    let backend: string;
    let state: string;
    let tooltip: string;
    switch (view.kind) {
      case 'checking':
        reachable = 'unknown';
        backend = this._backendNode.textContent || '\u2026';
        state = 'checking';
        tooltip = 'Asking the server\u2026';
        break;
      case 'answer':
        reachable = String(view.status.reachable);
        backend = view.status.backend;
        state = view.status.reachable ? 'reachable' : 'unreachable';
        tooltip = view.status.message ?? `jupyter-mlops ${view.status.version}`;
        break;
      case 'error':
        reachable = 'false';
        backend = 'server extension';
        state = 'unreachable';
        tooltip = view.message;
        break;
    }
    this._statusNode.dataset.reachable = reachable;
    this._statusNode.title = tooltip;
    this._backendNode.textContent = backend;
    this._stateNode.textContent = state;
  }

  private readonly _serverSettings: ServerConnection.ISettings;
  private readonly _statusNode = document.createElement('div');
  private readonly _lightNode = document.createElement('span');
  private readonly _backendNode = document.createElement('span');
  private readonly _stateNode = document.createElement('span');
  private _requests = 0;
}
