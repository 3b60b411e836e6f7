/**
 * What a step made, for the sidebar's run view (issue 11): the previews the step stored with each
 * value (a frame's first rows, an array's statistics, a cut repr), its metric histories and KFP
 * visual artifacts (stepcharts.ts) and the figures it showed, in order.
 * Everything arrives in the run detail (jupyter_mlops/server/run_json.py); images load from the
 * artifact route; HTML and Markdown figures open as downloads (never run in this page).
 */
import { IRunDetail, IStep, MlopsClient } from './api';
import { Histories, historyCharts, IVisual, visualBoxes } from './stepcharts';

interface IPreview {
  kind: string;
  shape?: number[];
  columns?: string[];
  dtypes?: string[];
  index?: string[];
  rows?: string[][];
  dtype?: string;
  min?: number;
  max?: number;
  mean?: number;
  sampled?: boolean;
  text?: string;
  png?: string;
  size?: number[];
  mode?: string;
}

interface IFigure {
  file: string;
  mime: string;
  artifact: string;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function number(x: number): string {
  return Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : String(+x.toFixed(4));
}

function thumbnail(name: string, png: string): HTMLElement {
  const img = el('img', 'jp-mlops-thumb');
  img.src = `data:image/png;base64,${png}`;
  img.alt = name;
  return img;
}

function preview(name: string, p: IPreview): HTMLElement {
  const box = el('div', 'jp-mlops-preview');
  box.dataset.output = name;
  const head = el('div', 'jp-mlops-preview-head');
  head.append(el('b', '', name));
  box.append(head);
  if (p.kind === 'table' && p.shape && p.columns && p.rows) {
    head.append(` \u00b7 ${p.shape[0]} rows \u00d7 ${p.shape[1]} columns`);
    const table = el('table', 'jp-mlops-preview-table');
    const top = table.insertRow();
    top.append(el('th', ''));
    p.columns.forEach((c, i) => {
      const th = el('th', '', c);
      th.title = p.dtypes?.[i] ?? '';
      top.append(th);
    });
    p.rows.forEach((row, r) => {
      const tr = table.insertRow();
      tr.append(el('th', '', p.index?.[r] ?? ''));
      for (const cell of row) {
        tr.insertCell().textContent = cell;
      }
    });
    box.append(table);
  } else if (p.kind === 'array') {
    head.append(` \u00b7 ${p.dtype} (${(p.shape ?? []).join(', ')})`);
    if (p.min !== undefined && p.max !== undefined && p.mean !== undefined) {
      const of = p.sampled ? ' (of a sample)' : '';
      box.append(el('div', '', `min ${number(p.min)} \u00b7 max ${number(p.max)} \u00b7 mean ${number(p.mean)}${of}`));
    }
    if (p.text) {
      box.append(el('pre', 'jp-mlops-preview-text', p.text));
    }
    if (p.png) {
      box.append(thumbnail(name, p.png));
    }
  } else if (p.kind === 'image' && p.png) {
    head.append(` \u00b7 image ${(p.size ?? []).join(' \u00d7 ')} ${p.mode ?? ''}`);
    box.append(thumbnail(name, p.png));
  } else if (p.text !== undefined) {
    box.append(el('pre', 'jp-mlops-preview-text', p.text));
  }
  return box;
}

/** The previews and figures of `step`, or null when it has none. */
export function stepResults(client: MlopsClient, run: IRunDetail, step: IStep): HTMLElement | null {
  const box = el('div', 'jp-mlops-step-results');
  const artifacts = run.artifacts.filter(a => a.step === step.name);
  for (const artifact of artifacts) {
    const p = (artifact.metadata ?? {})['preview'] as IPreview | undefined;
    const variable = (artifact.metadata ?? {})['variable'];
    if (p && typeof p === 'object') {
      box.append(preview(typeof variable === 'string' && variable !== 'result' ? variable : artifact.name, p));
    }
  }
  // the step the view shows comes with its charts (GET runs/{id}?step=NAME): stepcharts.ts
  const charts = step as unknown as { histories?: Histories; visuals?: IVisual[] };
  box.append(...historyCharts(charts.histories ?? {}), ...visualBoxes(charts.visuals ?? []));
  const figures = ((step as unknown as { figures?: IFigure[] }).figures ?? []) as IFigure[];
  for (const figure of figures) {
    const url = `${client.artifactUrl(run.id, step.name, figure.artifact)}?path=${encodeURIComponent(figure.file)}`;
    if (figure.mime.startsWith('image/')) {
      const img = el('img', 'jp-mlops-figure');
      img.src = url;
      img.alt = figure.file;
      img.dataset.file = figure.file;
      box.append(img);
    } else {
      const link = el('a', 'jp-mlops-figure-link', `\u2913 ${figure.file}`);
      link.href = url;
      link.setAttribute('download', figure.file);
      box.append(link);
    }
  }
  return box.childElementCount ? box : null;
}
