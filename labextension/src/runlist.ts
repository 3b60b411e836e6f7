/**
 * The sidebar's list of runs, newest first. Only the rows in view exist in
 * the DOM and only their pages are fetched, so 10,000 runs scroll smoothly.
 */
import { elapsed, formatDuration, IRunSummary, IStateStyle, MlopsClient } from './api';

export const ROW_HEIGHT = 26;
const PAGE = 100;

export class RunList {
  readonly node = document.createElement('div');

  constructor(
    private readonly _client: MlopsClient,
    private readonly _onOpen: (run: IRunSummary) => void
  ) {
    this.node.className = 'jp-mlops-runlist';
    this._spacer.className = 'jp-mlops-runlist-spacer';
    this.node.append(this._spacer);
    this.node.addEventListener('scroll', () => this._renderRows());
  }

  styles: Record<string, IStateStyle> = {};
  readonly selected = new Set<string>();
  experiment = '';

  /** Forget what was fetched and read the rows in view again. */
  async reload(): Promise<void> {
    const stale = this._pages;
    this._pages = new Map();
    const first = Math.floor(this.node.scrollTop / ROW_HEIGHT);
    const visible = Math.ceil((this.node.clientHeight || 400) / ROW_HEIGHT) + 1;
    const pages = new Set([Math.floor(first / PAGE), Math.floor((first + visible) / PAGE)]);
    await Promise.all([...pages].map(page => this._fetch(page)));
    if (this._pages.size === 0) {
      this._pages = stale;
    }
    this._renderRows();
  }

  get total(): number {
    return this._total;
  }

  summary(id: string): IRunSummary | undefined {
    for (const rows of this._pages.values()) {
      const run = rows.find(r => r.id === id);
      if (run) {
        return run;
      }
    }
    return this._known.get(id);
  }

  /** Fetch one page; callers asking for a page already on its way share that request. */
  private _fetch(page: number): Promise<void> {
    const pending = this._loading.get(page);
    if (pending) {
      return pending;
    }
    const request = this._client
      .listRuns(page * PAGE, PAGE, this.experiment)
      .then(answer => {
        this._total = answer.total;
        this._pages.set(page, answer.runs);
      })
      .finally(() => this._loading.delete(page));
    this._loading.set(page, request);
    return request;
  }

  private _renderRows(): void {
    this._spacer.style.height = `${this._total * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(this.node.scrollTop / ROW_HEIGHT) - 5);
    const last = Math.min(this._total, first + Math.ceil((this.node.clientHeight || 400) / ROW_HEIGHT) + 10);
    const rows: HTMLElement[] = [];
    for (let index = first; index < last; index++) {
      const page = this._pages.get(Math.floor(index / PAGE));
      const run = page?.[index % PAGE];
      if (!run) {
        const missing = Math.floor(index / PAGE);
        if (!this._loading.has(missing) && !this._pages.has(missing)) {
          // Render again once the page is here; a failed fetch leaves the gap until the next refresh.
          this._fetch(missing).then(
            () => this._renderRows(),
            () => undefined
          );
        }
        continue;
      }
      this._known.set(run.id, run);
      rows.push(this._row(run, index));
    }
    this._spacer.replaceChildren(...rows);
  }

  private _row(run: IRunSummary, index: number): HTMLElement {
    const style = this.styles[run.state];
    const row = document.createElement('div');
    row.className = 'jp-mlops-run';
    row.dataset.runId = run.id;
    row.dataset.state = run.state;
    row.style.top = `${index * ROW_HEIGHT}px`;
    row.style.height = `${ROW_HEIGHT}px`;
    row.title = `${run.name}\n${run.id} \u00b7 ${run.experiment}\n${run.state}${run.error ? `: ${run.error}` : ''}`;
    if (run.schedule) {
      row.title += `\nstarted by schedule ${run.schedule}`;
      row.dataset.schedule = run.schedule;
    }

    const pick = document.createElement('input');
    pick.type = 'checkbox';
    pick.title = 'Select to compare';
    pick.checked = this.selected.has(run.id);
    pick.addEventListener('click', event => event.stopPropagation());
    pick.addEventListener('change', () => {
      if (pick.checked) {
        this.selected.add(run.id);
      } else {
        this.selected.delete(run.id);
      }
    });
    const icon = document.createElement('span');
    icon.className = 'jp-mlops-run-icon';
    icon.textContent = style?.icon ?? '?';
    icon.style.color = style?.stroke ?? '';
    const name = document.createElement('span');
    name.className = 'jp-mlops-run-name';
    name.textContent = run.name;
    const state = document.createElement('span');
    state.className = 'jp-mlops-run-state-text';
    state.textContent = run.state;
    const time = document.createElement('span');
    time.className = 'jp-mlops-run-duration';
    time.textContent = formatDuration(elapsed(run));
    row.append(pick, icon, name, state, time);
    row.addEventListener('click', () => this._onOpen(run));
    return row;
  }

  private _pages = new Map<number, IRunSummary[]>();
  private readonly _known = new Map<string, IRunSummary>();
  private readonly _loading = new Map<number, Promise<void>>();
  private readonly _spacer = document.createElement('div');
  private _total = 0;
}
