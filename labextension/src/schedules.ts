/**
 * The sidebar's list of schedules (`GET mlops/api/schedules`): each with its
 * cron and time zone, its next run and its last one, and a button that pauses
 * or resumes it (`POST mlops/api/schedules/<name>/pause|resume`). Clicking the
 * last run opens its run view.
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './request';

export interface IScheduleLast {
  due: number;
  run_id: string | null;
  error: string | null;
  fired_by: string;
}

export interface ISchedule {
  name: string;
  cron: string;
  timezone: string;
  paused: boolean;
  catch_up: string;
  pipeline_name: string;
  arguments: Record<string, unknown>;
  experiment: string;
  next_run: number | null;
  last: IScheduleLast | null;
}

/** A time as the user's clock shows it, to the minute. */
function when(seconds: number): string {
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export class ScheduleList {
  readonly node = document.createElement('section');

  constructor(
    private readonly _settings: ServerConnection.ISettings,
    private readonly _openRun: (id: string) => void
  ) {
    this.node.className = 'jp-mlops-schedules';
    const heading = document.createElement('h3');
    heading.className = 'jp-mlops-schedules-heading';
    heading.textContent = 'Schedules';
    this._list.className = 'jp-mlops-schedule-list';
    this.node.append(heading, this._list);
  }

  /** Read the schedules again and redraw them (only when something changed). */
  async reload(): Promise<void> {
    let found: ISchedule[];
    try {
      found = (await requestAPI<{ schedules: ISchedule[] }>('schedules', {}, this._settings)).schedules;
    } catch (error) {
      this._showProblem(error instanceof Error ? error.message : String(error));
      return;
    }
    const shown = JSON.stringify(found);
    if (shown !== this._shown) {
      this._shown = shown;
      this._render(found);
    }
  }

  private async _toggle(schedule: ISchedule, button: HTMLButtonElement): Promise<void> {
    const verb = schedule.paused ? 'resume' : 'pause';
    button.disabled = true;
    try {
      await requestAPI<ISchedule>(
        `schedules/${encodeURIComponent(schedule.name)}/${verb}`,
        { method: 'POST' },
        this._settings
      );
    } catch (error) {
      this._showProblem(error instanceof Error ? error.message : String(error));
    }
    await this.reload();
  }

  private _showProblem(message: string): void {
    this._shown = '';
    const problem = document.createElement('div');
    problem.className = 'jp-mlops-schedule-problem';
    problem.textContent = message;
    this._list.replaceChildren(problem);
  }

  private _render(schedules: ISchedule[]): void {
    if (schedules.length === 0) {
      const empty = document.createElement('div');
      empty.className = 'jp-mlops-schedule-empty';
      empty.textContent = 'No schedules. Add one with %pipeline schedule "0 3 * * *".';
      this._list.replaceChildren(empty);
      return;
    }
    this._list.replaceChildren(...schedules.map(s => this._row(s)));
  }

  private _row(schedule: ISchedule): HTMLElement {
    const row = document.createElement('div');
    row.className = 'jp-mlops-schedule';
    row.dataset.schedule = schedule.name;
    row.dataset.paused = String(schedule.paused);
    row.title = `${schedule.pipeline_name}: runs go to experiment ${schedule.experiment}; catch-up: ${schedule.catch_up}`;

    const top = document.createElement('div');
    top.className = 'jp-mlops-schedule-top';
    const name = document.createElement('span');
    name.className = 'jp-mlops-schedule-name';
    name.textContent = schedule.name;
    const cron = document.createElement('div');
    cron.className = 'jp-mlops-schedule-cron';
    cron.textContent = `${schedule.cron} (${schedule.timezone})`;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'jp-mlops-schedule-toggle jp-Button jp-mod-styled jp-mod-minimal';
    button.textContent = schedule.paused ? 'Resume' : 'Pause';
    button.title = schedule.paused
      ? 'Fire again from now on (times missed while paused do not run)'
      : 'Fire nothing until resumed';
    button.addEventListener('click', () => void this._toggle(schedule, button));
    top.append(name, button);

    const next = document.createElement('div');
    next.className = 'jp-mlops-schedule-next';
    next.textContent = schedule.paused
      ? 'paused'
      : `next: ${schedule.next_run === null ? '\u2014' : when(schedule.next_run)}`;
    next.title = 'Times are shown on this browser\u2019s clock';

    const last = document.createElement('div');
    last.className = 'jp-mlops-schedule-last';
    if (schedule.last === null) {
      last.textContent = 'last: never';
    } else if (schedule.last.run_id) {
      const runId = schedule.last.run_id;
      const link = document.createElement('a');
      link.className = 'jp-mlops-schedule-run';
      link.href = '#';
      link.dataset.runId = runId;
      link.textContent = runId;
      link.addEventListener('click', event => {
        event.preventDefault();
        this._openRun(runId);
      });
      last.append(`last: ${when(schedule.last.due)} `, link);
    } else {
      last.textContent = `last: ${when(schedule.last.due)} ${schedule.last.error ?? 'starting'}`;
    }
    row.append(top, cron, next, last);
    return row;
  }

  private _list = document.createElement('div');
  private _shown = '';
}
