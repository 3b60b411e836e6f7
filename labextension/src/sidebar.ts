/**
 * The "Pipelines" panel in JupyterLab's left sidebar: which backend the server
 * runs pipelines on and whether it is reachable, the experiments, and every
 * run newest first (a windowed list). Clicking a run opens its run view.
 */
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { IExperiment, IRunSummary, IStateStyle, MlopsClient } from './api';
import { showBackendLink, STATUS_MS } from './backendlink';
import { RunList } from './runlist';
import { ScheduleList } from './schedules';
import { fetchStatus, IBackendStatus } from './status';

const REFRESH_MS = 2000;

/** What the sidebar asks its app to do. */
export interface ISidebarActions {
  openRun(id: string): void;
  compare(runs: IRunSummary[]): void;
}

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

  constructor(
    serverSettings: ServerConnection.ISettings,
    private readonly _actions: ISidebarActions
  ) {
    super();
    this._serverSettings = serverSettings;
    this._client = new MlopsClient(serverSettings);
    this.runList = new RunList(this._client, run => this._actions.openRun(run.id));
    this.scheduleList = new ScheduleList(serverSettings, id => this._actions.openRun(id));
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
    const tools = document.createElement('div');
    tools.className = 'jp-mlops-tools';
    this._experimentPick.className = 'jp-mlops-experiment jp-mod-styled';
    this._experimentPick.title = 'Show the runs of one experiment';
    this._experimentPick.addEventListener('change', () => {
      this.runList.experiment = this._experimentPick.value;
      this.runList.node.scrollTop = 0;
      void this.runList.reload();
    });
    const compare = document.createElement('button');
    compare.type = 'button';
    compare.className = 'jp-mlops-compare-button jp-Button jp-mod-styled jp-mod-minimal';
    compare.textContent = 'Compare';
    compare.title = 'Parameters and metrics of the selected runs side by side';
    compare.addEventListener('click', () => {
      const runs = [...this.runList.selected]
        .map(id => this.runList.summary(id))
        .filter((run): run is IRunSummary => run !== undefined);
      if (runs.length > 0) {
        this._actions.compare(runs);
      }
    });
    tools.append(this._experimentPick, compare);
    this.runsNode.append(tools, this.runList.node);
    this.node.append(header, this._statusNode, this.scheduleList.node, this.runsNode);
    this._render({ kind: 'checking' });
  }

  readonly runsNode: HTMLElement = document.createElement('div');
  readonly runList: RunList;
  readonly scheduleList: ScheduleList;

  /** The run views' palette, once the server has told it. */
  get styles(): Record<string, IStateStyle> {
    return this.runList.styles;
  }

  /** Ask the server for the backend status and show the answer. */
  async refresh(): Promise<void> {
    await this.refreshStatus(true);
    await this.refreshRuns();
  }

  /** The status light alone (every STATUS_MS while shown, without blinking to "checking"). */
  async refreshStatus(checking = false): Promise<void> {
    const ticket = ++this._requests;
    if (checking) {
      this._render({ kind: 'checking' });
    }
    let view: StatusView;
    try {
      view = { kind: 'answer', status: await fetchStatus(this._serverSettings) };
    } catch (error) {
      view = { kind: 'error', message: error instanceof Error ? error.message : String(error) };
    }
    // A slower, older request must not overwrite a newer answer.
    if (ticket === this._requests && !this.isDisposed) {
      this._render(view);
      if (view.kind === 'answer' && view.status.state_styles) {
        this.runList.styles = view.status.state_styles;
      }
      showBackendLink(this._statusNode, view.kind === 'answer' ? view.status : null);
    }
  }

  /** Read the experiments and the runs in view again. */
  async refreshRuns(): Promise<void> {
    try {
      const experiments = await this._client.experiments();
      const shown = JSON.stringify(experiments.map(e => [e.name, e.run_count]));
      if (shown !== this._experimentsShown) {
        // Rebuilt only when they changed: an open drop-down is not reset every refresh.
        this._experimentsShown = shown;
        this._showExperiments(experiments);
      }
      await Promise.all([this.runList.reload(), this.scheduleList.reload()]);
    } catch (error) {
      this._stateNode.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  private _showExperiments(experiments: IExperiment[]): void {
    const chosen = this._experimentPick.value;
    const options = [new Option('All experiments', '')];
    for (const experiment of experiments) {
      options.push(new Option(`${experiment.name} (${experiment.run_count})`, experiment.name));
    }
    this._experimentPick.replaceChildren(...options);
    this._experimentPick.value = chosen;
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
    window.clearInterval(this._timer);
    this._timer = window.setInterval(() => void this.refreshRuns(), REFRESH_MS);
    window.clearInterval(this._statusTimer);
    this._statusTimer = window.setInterval(() => void this.refreshStatus(), STATUS_MS);
  }

  protected override onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    window.clearInterval(this._timer);
    window.clearInterval(this._statusTimer);
  }

  override dispose(): void {
    window.clearInterval(this._timer);
    window.clearInterval(this._statusTimer);
    super.dispose();
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
  private _timer = 0;
  private _statusTimer = 0;
  private _experimentsShown = '';
  private readonly _client: MlopsClient;
  private readonly _experimentPick = document.createElement('select');
}
