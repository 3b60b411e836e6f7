/**
 * Selected runs side by side: one column per run, one row per parameter and
 * metric, like `%pipeline compare`.
 */
import { Widget } from '@lumino/widgets';

import { IRunSummary } from './api';

export class CompareView extends Widget {
  constructor(runs: IRunSummary[]) {
    super();
    this.id = `jupyter-mlops-compare-${runs.map(r => r.id).join('-')}`;
    this.addClass('jp-mlops-compare');
    this.title.label = `Compare ${runs.length} runs`;
    this.title.closable = true;

    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    head.insertCell().textContent = '';
    for (const run of runs) {
      head.insertCell().textContent = `${run.name} (${run.id})`;
    }
    const body = table.createTBody();
    const section = (title: string, pick: (run: IRunSummary) => Record<string, unknown>): void => {
      const keys = [...new Set(runs.flatMap(run => Object.keys(pick(run))))].sort();
      for (const key of keys) {
        const row = body.insertRow();
        row.insertCell().textContent = `${title} ${key}`;
        for (const run of runs) {
          const value = pick(run)[key];
          row.insertCell().textContent = value === undefined ? '' : String(value);
        }
      }
    };
    section('state', run => ({ '': run.state }));
    section('param', run => run.parameters);
    section('metric', run => run.metrics);
    this.node.append(table);
  }
}
