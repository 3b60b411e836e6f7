/**
 * The shapes `mlops/api` answers with (see jupyter_mlops/server/openapi.yaml)
 * and one function per call.
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './request';

export type RunState =
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'CANCELING'
  | 'CANCELED';

/**
 * A metric's value. JSON has no NaN or infinities, so the server sends those as the strings KFP's UI
 * shows (openapi.yaml's `Number`); the views print either kind as it is.
 */
export type MetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

export interface IStateStyle {
  fill: string;
  stroke: string;
  text: string;
  icon: string;
}

export interface IRunSummary {
  id: string;
  name: string;
  state: RunState;
  /** The state is final (the server says so: the front end keeps no list of states). */
  terminal: boolean;
  experiment: string;
  pipeline_name: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration: number | null;
  parameters: Record<string, unknown>;
  metrics: Record<string, MetricValue>;
  error: string | null;
  /** The schedule that started the run, if one did. */
  schedule?: string | null;
}

export interface IRunPage {
  runs: IRunSummary[];
  total: number;
  limit: number;
  offset: number;
  next_offset: number | null;
}

export interface IStep {
  name: string;
  state: string;
  terminal: boolean;
  started_at: number | null;
  finished_at: number | null;
  duration: number | null;
  error: string | null;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  metrics: Record<string, MetricValue>;
}

export interface ILayout {
  width: number;
  height: number;
  nodes: { id: string; x: number; y: number; w: number; h: number }[];
  edges: { source: string; target: string; d: string; label?: string }[];
}

export interface IRunDetail extends IRunSummary {
  steps: IStep[];
  edges: [string, string][];
  artifacts: { step: string; name: string; type: string; metadata?: Record<string, unknown> }[];
  layout: ILayout;
  /** The DAG drawn by the server (jupyter_mlops/render/svg.py): nodes are g.mlops-node[data-step]. */
  dag_svg: string;
}

export interface ILogChunk {
  text: string;
  offset: number;
  next_offset: number;
  complete: boolean;
  /** With executor lines hidden: pass it back with next_offset (the server filters, statelessly). */
  filter_state?: string;
}

export interface IExperiment {
  id: string;
  name: string;
  run_count: number;
}

/** Talks to `mlops/api` with the server's settings (base URL, token, XSRF). */
export class MlopsClient {
  constructor(readonly settings: ServerConnection.ISettings) {}

  listRuns(offset: number, limit: number, experiment: string): Promise<IRunPage> {
    const query = new URLSearchParams({ offset: String(offset), limit: String(limit) });
    if (experiment) {
      query.set('experiment', experiment);
    }
    return requestAPI<IRunPage>(`runs?${query}`, {}, this.settings);
  }

  /** The run; `step` (the one the view shows) also gets its metric histories and KFP visuals. */
  getRun(id: string, step?: string | null): Promise<IRunDetail> {
    const query = step ? `?${new URLSearchParams({ step })}` : '';
    return requestAPI<IRunDetail>(`runs/${encodeURIComponent(id)}${query}`, {}, this.settings);
  }

  cancel(id: string): Promise<IRunDetail> {
    return requestAPI<IRunDetail>(
      `runs/${encodeURIComponent(id)}/cancel`,
      { method: 'POST' },
      this.settings
    );
  }

  submitNotebook(path: string): Promise<IRunDetail> {
    return requestAPI<IRunDetail>(
      'runs',
      { method: 'POST', body: JSON.stringify({ notebook: path }) },
      this.settings
    );
  }

  /**
   * A step's log from byte `offset`. `filterState` given (from the previous answer, '' at first),
   * the server leaves out kfp's executor lines (jupyter_mlops/render/log_filter.py).
   */
  log(id: string, step: string, offset: number, filterState: string | null = null): Promise<ILogChunk> {
    const query = new URLSearchParams({ offset: String(offset) });
    if (filterState !== null) {
      query.set('executor_lines', 'hide');
      query.set('filter_state', filterState);
    }
    return requestAPI<ILogChunk>(
      `runs/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/log?${query}`,
      {},
      this.settings
    );
  }

  async experiments(): Promise<IExperiment[]> {
    const body = await requestAPI<{ experiments: IExperiment[] }>('experiments', {}, this.settings);
    return body.experiments;
  }

  /** The run's server-sent events. An EventSource cannot send headers: the session cookie
   * authenticates it, or the token in the query where the page has one. */
  eventsUrl(id: string): string {
    const url = `${this.settings.baseUrl}mlops/api/runs/${encodeURIComponent(id)}/events`;
    const token = this.settings.token;
    return token ? `${url}?token=${encodeURIComponent(token)}` : url;
  }

  /** Register TensorBoard for a step's logs; answers the URL the server proxies it at. */
  async tensorBoard(run: string, step: string): Promise<{ id: string; title: string; url: string }> {
    return requestAPI<{ id: string; title: string; url: string }>(
      'tensorboards',
      { method: 'POST', body: JSON.stringify({ run, step }) },
      this.settings
    );
  }

  artifactUrl(id: string, step: string, name: string): string {
    const path = ['runs', id, 'steps', step, 'artifacts', name].map(encodeURIComponent).join('/');
    return `${this.settings.baseUrl}mlops/api/${path}`;
  }
}

export { formatDuration } from './format';

/** A run's duration, or how long it has been going. */
export function elapsed(run: { started_at: number | null; finished_at: number | null }): number | null {
  if (run.started_at === null) {
    return null;
  }
  const end = run.finished_at ?? Date.now() / 1000;
  return Math.max(0, end - run.started_at);
}
