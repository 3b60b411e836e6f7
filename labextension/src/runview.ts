/**
 * A run in JupyterLab's main area: the DAG the server laid out (drawn, never
 * re-laid out here), states in the palette of jupyter_mlops/render/style.py, the selected
 * step's log following the run, its inputs, outputs, artifacts and metrics,
 * and a cancel button.
 */
import { Widget } from '@lumino/widgets';

import { stepResults } from './stepresults';
import { asATerminalShows } from './terminal';
import { formatMetric } from './format';
import {
  elapsed,
  formatDuration,
  IRunDetail,
  IStateStyle,
  IStep,
  MlopsClient
} from './api';

const POLL_MS = 1000;

export class RunView extends Widget {
  constructor(
    private readonly _client: MlopsClient,
    readonly runId: string,
    private readonly _styles: () => Record<string, IStateStyle>
  ) {
    super();
    this.id = `jupyter-mlops-run-${runId}`;
    this.addClass('jp-mlops-runview');
    this.title.label = `Run ${runId}`;
    this.title.closable = true;

    this._cancel.type = 'button';
    this._cancel.className = 'jp-mlops-cancel jp-Button jp-mod-styled jp-mod-warn';
    this._cancel.textContent = 'Cancel run';
    this._cancel.addEventListener('click', () => void this._onCancel());
    const header = document.createElement('div');
    header.className = 'jp-mlops-runview-header';
    header.append(this._heading, this._stateBadge, this._cancel);
    this._dag.setAttribute('class', 'jp-mlops-dag');
    this._log.className = 'jp-mlops-log';
    // kfp's executor lines (its input JSON, where it found the component) are hidden unless asked for.
    const toggle = document.createElement('label');
    toggle.className = 'jp-mlops-log-toggle';
    toggle.title = "Show the lines kfp's executor writes around the step's own output";
    this._executorToggle.type = 'checkbox';
    this._executorToggle.addEventListener('change', () => {
      this._showExecutor = this._executorToggle.checked;
      if (this._selected !== null) {
        this.selectStep(this._selected); // read the log again from its start
      }
    });
    toggle.append(this._executorToggle, ' kfp executor lines');
    this._details.className = 'jp-mlops-step-details';
    this._metrics.className = 'jp-mlops-metrics';
    this._error.className = 'jp-mlops-error';
    const stepTitle = document.createElement('h3');
    stepTitle.className = 'jp-mlops-step-title';
    this._stepTitle = stepTitle;
    this.node.append(
      header,
      this._error,
      this._metrics,
      this._dag,
      stepTitle,
      this._details,
      toggle,
      this._log
    );
    void this._refresh().then(() => this._listen());
    this._timer = window.setInterval(() => void this._tick(), POLL_MS);
  }

  override dispose(): void {
    this._stop();
    super.dispose();
  }

  /** Show the log and details of `step`, following its log from the start. */
  selectStep(step: string): void {
    this._selected = step;
    this._logGeneration += 1; // a read under way for the old start is dropped (_readLog)
    this._logOffset = 0;
    this._logComplete = false;
    this._logState = '';
    this._log.textContent = '';
    this._log.dataset.step = step;
    if (this._run) {
      this._render(this._run);
      if (!('histories' in (this._run.steps.find(s => s.name === step) ?? {}))) {
        void this._refreshSoon(); // its charts come with a read of the run that names it
      }
    }
    void this._followLog();
  }

  /**
   * Listen to the run's server-sent events (`runs/{id}/events`): a state change or a metric
   * re-reads the run at once. The browser's EventSource reconnects by itself, resuming after the
   * last event it saw; while it is not connected the timer polls instead.
   */
  private _listen(): void {
    if (this.isDisposed || this._finished() || typeof EventSource === 'undefined') {
      return;
    }
    const source = new EventSource(this._client.eventsUrl(this.runId), { withCredentials: true });
    this._source = source;
    source.onopen = () => {
      this._streaming = true;
      this.node.dataset.live = 'events';
    };
    source.onerror = () => {
      // The stream ended (the run finished, or the server's time limit) or the connection broke.
      this._streaming = false;
      this.node.dataset.live = 'polling';
      if (this._finished()) {
        this._closeSource(); // no reconnecting; the timer stops once the log is complete
      }
    };
    for (const kind of ['run', 'step', 'metric']) {
      source.addEventListener(kind, () => void this._refreshSoon());
    }
  }

  /** Every POLL_MS: follow the selected step's log; re-read the run too when no stream is open. */
  private async _tick(): Promise<void> {
    if (this._ticking || this.isDisposed) {
      return;
    }
    this._ticking = true;
    try {
      if (!this._streaming) {
        await this._refreshSoon();
      } else {
        if (this._run && !this._finished()) {
          this._render(this._run); // running steps' durations and the elapsed time move on
        }
        await this._followLog();
      }
    } catch (error) {
      this._error.textContent = error instanceof Error ? error.message : String(error);
    } finally {
      this._ticking = false;
    }
    if (this._finished() && this._logComplete) {
      this._stop(); // nothing more will change
    }
  }

  /** Re-read the run; calls that arrive during a read make one more read after it, not one each. */
  private async _refreshSoon(): Promise<void> {
    if (this._refreshing) {
      this._dirty = true;
      return;
    }
    this._refreshing = true;
    try {
      do {
        this._dirty = false;
        await this._refresh();
      } while (this._dirty && !this.isDisposed);
    } finally {
      this._refreshing = false;
    }
  }

  private async _refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    try {
      const run = await this._client.getRun(this.runId, this._selected);
      this._run = run;
      this._error.textContent = '';
      if (this._selected === null && run.steps.length > 0) {
        this.selectStep(run.steps[0].name);
      }
      this._render(run);
      await this._followLog();
      if (run.terminal) {
        this._closeSource();
      }
    } catch (error) {
      this._error.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  private _finished(): boolean {
    return this._run !== null && this._run.terminal;
  }

  private _closeSource(): void {
    this._source?.close();
    this._source = null;
    this._streaming = false;
  }

  private _stop(): void {
    this._closeSource();
    window.clearInterval(this._timer);
  }

  /** Read the selected step's log to its end; one reader at a time, so no chunk is shown twice. */
  private _followLog(): Promise<void> {
    if (this._following) {
      this._followAgain = true;
      return this._following;
    }
    const follow = async (): Promise<void> => {
      await null; // so that `_following` is set before this can finish
      try {
        do {
          this._followAgain = false;
          await this._readLog();
        } while (this._followAgain && !this.isDisposed);
      } finally {
        this._following = null;
      }
    };
    this._following = follow();
    return this._following;
  }

  private async _readLog(): Promise<void> {
    const step = this._selected;
    if (step === null || this._logComplete) {
      return;
    }
    // Read until the server has nothing more right now: a big log arrives in a few calls.
    for (;;) {
      const offset = this._logOffset;
      const generation = this._logGeneration;
      const chunk = await this._client.log(
        this.runId,
        step,
        offset,
        this._showExecutor ? null : this._logState
      );
      if (step !== this._selected) {
        return; // the user picked another step meanwhile
      }
      if (generation !== this._logGeneration) {
        continue; // the step was picked again meanwhile: its log restarted, read it from its new start
      }
      // kept as a terminal shows it: a progress bar's redraws stay one line (terminal.ts)
      this._log.textContent = asATerminalShows((this._log.textContent ?? '') + chunk.text);
      this._logOffset = chunk.next_offset;
      this._logState = chunk.filter_state ?? '';
      this._logComplete = chunk.complete;
      if (chunk.next_offset === offset || chunk.complete) {
        break;
      }
    }
    this._log.dataset.complete = String(this._logComplete);
    this._log.scrollTop = this._log.scrollHeight;
  }

  private async _onCancel(): Promise<void> {
    this._cancel.disabled = true;
    try {
      this._render(await this._client.cancel(this.runId));
    } catch (error) {
      this._error.textContent = error instanceof Error ? error.message : String(error);
      this._cancel.disabled = false;
    }
  }

  private _style(state: string): IStateStyle {
    const styles = this._styles();
    return styles[state] ?? styles['PENDING'] ?? { fill: '#fff', stroke: '#999', text: '#000', icon: '' };
  }

  private _render(run: IRunDetail): void {
    this.title.label = run.name;
    this._heading.textContent = run.name;
    const style = this._style(run.state);
    this._stateBadge.textContent = `${style.icon} ${run.state} ${formatDuration(elapsed(run))}`;
    this._stateBadge.className = 'jp-mlops-run-state';
    this._stateBadge.dataset.state = run.state;
    this._stateBadge.style.background = style.fill;
    this._stateBadge.style.color = style.text;
    this._stateBadge.style.borderColor = style.stroke;
    this.node.dataset.state = run.state;
    // Not the `hidden` attribute: JupyterLab's button styles set display and would override it.
    this._cancel.style.display = run.terminal ? 'none' : '';
    this._metrics.textContent = Object.entries(run.metrics)
      .map(([name, value]) => `${name} = ${formatMetric(value)}`)
      .join('   ');
    this._drawDag(run);
    const step = run.steps.find(s => s.name === this._selected);
    if (step) {
      this._renderStep(run, step);
    }
  }

  /**
   * The server's drawing of the DAG (the one every notebook output carries), made clickable: a node
   * selects its step. Between answers, running steps' times move on here.
   */
  private _drawDag(run: IRunDetail): void {
    if (this._dagSvg !== run.dag_svg) {
      this._dagSvg = run.dag_svg;
      this._dag.innerHTML = run.dag_svg; // built by the server with every name escaped
      for (const node of Array.from(this._dag.querySelectorAll<SVGGElement>('g.mlops-node'))) {
        node.classList.add('jp-mlops-node');
        const step = node.dataset.step ?? '';
        node.addEventListener('click', () => this.selectStep(step));
      }
    }
    const steps = new Map(run.steps.map(s => [s.name, s]));
    for (const node of Array.from(this._dag.querySelectorAll<SVGGElement>('g.mlops-node'))) {
      const step = steps.get(node.dataset.step ?? '');
      node.querySelector('rect')?.setAttribute(
        'stroke-width',
        node.dataset.step === this._selected ? '3' : '1.5'
      );
      const time = node.querySelector('.mlops-dur');
      if (step && !step.terminal && step.started_at !== null && time) {
        time.textContent = formatDuration(elapsed(step));
      }
    }
  }

  private _renderStep(run: IRunDetail, step: IStep): void {
    // Redrawn only when what it shows changed: a redraw reloads a step's HTML/Markdown frames (a flash)
    const shown = JSON.stringify([run.id, step, run.artifacts.filter(a => a.step === step.name)]);
    if (shown === this._stepShown) {
      return;
    }
    this._stepShown = shown;
    this._stepTitle.textContent = `${step.name} \u2014 ${step.state}${step.error ? `: ${step.error}` : ''}`;
    const rows: [string, Record<string, unknown>][] = [
      ['Inputs', step.inputs],
      ['Outputs', step.outputs],
      ['Metrics', step.metrics]
    ];
    const table = document.createElement('table');
    for (const [title, values] of rows) {
      for (const [key, value] of Object.entries(values)) {
        const tr = table.insertRow();
        tr.insertCell().textContent = title;
        tr.insertCell().textContent = key;
        tr.insertCell().textContent =
          title === 'Metrics' ? formatMetric(value) : typeof value === 'string' ? value : JSON.stringify(value);
      }
    }
    const links = document.createElement('div');
    links.className = 'jp-mlops-artifacts';
    for (const artifact of run.artifacts.filter(a => a.step === step.name)) {
      const link = document.createElement('a');
      link.href = this._client.artifactUrl(run.id, artifact.step, artifact.name);
      link.textContent = `\u2913 ${artifact.name}`;
      link.title = artifact.type;
      link.setAttribute('download', artifact.name);
      links.append(link);
    }
    const logdir = run.artifacts.some(
      a =>
        a.step === step.name &&
        (a.name === 'mlops_logdir' || a.name === 'tensorboard' || a.metadata?.kind === 'tensorboard-logdir')
    );
    if (logdir) {
      // The step wrote TensorBoard logs: the server starts TensorBoard and proxies it.
      const open = document.createElement('a');
      open.className = 'jp-mlops-tensorboard';
      open.href = '#';
      open.textContent = 'Open in TensorBoard';
      open.addEventListener('click', event => {
        event.preventDefault();
        const tab = window.open('', '_blank'); // opened now, while the click still counts
        this._client.tensorBoard(run.id, step.name).then(
          shown => {
            if (tab) {
              tab.opener = null;
              tab.location.href = shown.url;
            }
          },
          error => {
            tab?.close();
            this._error.textContent = `TensorBoard: ${error instanceof Error ? error.message : String(error)}`;
          }
        );
      });
      links.append(open);
    }
    const results = stepResults(this._client, run, step); // previews and figures (stepresults.ts)
    this._details.replaceChildren(table, ...(results ? [results] : []), links);
  }

  private _run: IRunDetail | null = null;
  private _selected: string | null = null;
  private _stepShown = '';
  private _logOffset = 0;
  private _logGeneration = 0; // counts restarts of the log (selectStep): a read from before is dropped
  private _logComplete = false;
  private _timer = 0;
  private _source: EventSource | null = null;
  private _streaming = false;
  private _ticking = false;
  private _refreshing = false;
  private _dirty = false;
  private _following: Promise<void> | null = null;
  private _logState = ''; // the server's log filter state for the next read (executor lines hidden)
  private _showExecutor = false;
  private readonly _executorToggle = document.createElement('input');
  private _followAgain = false;
  private readonly _heading = document.createElement('h2');
  private readonly _stateBadge = document.createElement('span');
  private readonly _cancel = document.createElement('button');
  private readonly _dag = document.createElement('div');
  private _dagSvg = '';
  private readonly _log = document.createElement('pre');
  private readonly _details = document.createElement('div');
  private readonly _metrics = document.createElement('div');
  private readonly _error = document.createElement('div');
  private readonly _stepTitle: HTMLElement;
}
