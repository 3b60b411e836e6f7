/**
 * A step's charts in the sidebar's run view (issue 11): its `log_metric(..., step=i)` histories as
 * line charts (values on hover) and KFP's visual artifacts as the KFP UI shows them: Markdown and
 * HTML in a frame with an empty `sandbox` (no scripts, no same origin), Metrics as a table,
 * ClassificationMetrics as a confusion matrix and a ROC curve. The server sends both for the step
 * the view shows (`GET runs/{id}?step=NAME`, jupyter_mlops/server/step_results.py); the notebook's
 * run view draws the same from the kernel (jupyter_mlops/widgets/static/results.js).
 */
const SVG_NS = 'http://www.w3.org/2000/svg';

export type Histories = Record<string, [number, number][]>;

export interface IVisual {
  kind: 'html' | 'metrics' | 'classification';
  name: string;
  html?: string;
  values?: Record<string, number>;
  labels?: string[];
  matrix?: number[][];
  roc?: [number, number, number | null][];
}

function div(className: string, text?: string): HTMLDivElement {
  const node = document.createElement('div');
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function svg(
  tag: string,
  attrs: Record<string, string | number>,
  parent: Element | DocumentFragment,
  title?: string
): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, String(value));
  }
  if (title !== undefined) {
    const tip = document.createElementNS(SVG_NS, 'title');
    tip.textContent = title;
    node.append(tip);
  }
  parent.append(node);
  return node;
}

const short = (x: number): string => String(+x.toPrecision(5));

/** One small line chart per metric logged two or more times. */
export function historyCharts(series: Histories): HTMLElement[] {
  const W = 240;
  const H = 70;
  const P = 4;
  return Object.entries(series).map(([name, points]) => {
    const box = div('jp-mlops-history');
    box.dataset.metric = name;
    const [lastX, lastY] = points[points.length - 1];
    box.append(div('jp-mlops-preview-head', `${name} \u00b7 last ${short(lastY)} at ${lastX}`));
    const xs = points.map(p => p[0]);
    const ys = points.map(p => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const sx = (x: number): number => P + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * P);
    const sy = (y: number): number => H - P - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * P);
    const chart = svg('svg', { class: 'jp-mlops-chart', width: W, height: H + 12, viewBox: `0 0 ${W} ${H + 12}` }, box);
    const line = points.map(p => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    svg('polyline', { points: line, fill: 'none', stroke: '#2563eb', 'stroke-width': 1.5 }, chart);
    for (const [x, y] of points) {
      const dot = { cx: sx(x), cy: sy(y), r: 2.5, fill: '#2563eb', 'fill-opacity': 0.25 };
      svg('circle', dot, chart, `${name} at ${x}: ${y}`);
    }
    svg('text', { x: 0, y: H + 11, 'font-size': 9, fill: '#6b7280' }, chart).textContent =
      `${short(y0)} \u2013 ${short(y1)}`;
    return box;
  });
}

function confusion(labels: string[], matrix: number[][]): HTMLTableElement {
  const top = Math.max(1, ...matrix.flat());
  const table = document.createElement('table');
  table.className = 'jp-mlops-preview-table jp-mlops-confusion';
  const head = table.insertRow();
  head.append(Object.assign(document.createElement('th'), { textContent: 'true \\ pred' }));
  for (const label of labels) {
    head.append(Object.assign(document.createElement('th'), { textContent: label }));
  }
  matrix.forEach((row, i) => {
    const tr = table.insertRow();
    tr.append(Object.assign(document.createElement('th'), { textContent: labels[i] ?? String(i) }));
    row.forEach((n, j) => {
      const td = tr.insertCell();
      td.textContent = String(n);
      td.title = `true ${labels[i]}, predicted ${labels[j]}: ${n}`;
      td.style.background = `rgba(37, 99, 235, ${(0.08 + 0.7 * (n / top)).toFixed(2)})`;
    });
  });
  return table;
}

function roc(points: [number, number, number | null][]): SVGElement {
  const S = 160;
  const P = 20;
  const size = { class: 'jp-mlops-roc', width: S + P, height: S + P, viewBox: `0 0 ${S + P} ${S + P}` };
  const chart = svg('svg', size, document.createDocumentFragment());
  const sx = (x: number): number => P + x * (S - 4);
  const sy = (y: number): number => S - y * (S - 4);
  svg('rect', { x: P, y: 4, width: S - 4, height: S - 4, fill: 'none', stroke: '#e5e7eb' }, chart);
  svg('line', { x1: sx(0), y1: sy(0), x2: sx(1), y2: sy(1), stroke: '#d1d5db', 'stroke-dasharray': '3 3' }, chart);
  const line = points.map(p => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
  svg('polyline', { points: line, fill: 'none', stroke: '#2563eb', 'stroke-width': 2 }, chart);
  for (const [fpr, recall, threshold] of points) {
    const tip = `threshold ${threshold}: false positive rate ${fpr}, recall ${recall}`;
    svg('circle', { cx: sx(fpr), cy: sy(recall), r: 2.5, fill: '#2563eb' }, chart, tip);
  }
  const axis = { 'font-size': 9, 'text-anchor': 'middle', fill: '#6b7280' };
  svg('text', { x: P + S / 2, y: S + P - 2, ...axis }, chart).textContent = 'false positive rate';
  svg('text', { x: 9, y: S / 2, transform: `rotate(-90 9 ${S / 2})`, ...axis }, chart).textContent = 'recall (ROC)';
  return chart;
}

/** Each KFP visual artifact under its name. */
export function visualBoxes(items: IVisual[]): HTMLElement[] {
  return items.map(v => {
    const box = div(`jp-mlops-visual jp-mlops-visual-${v.kind}`);
    box.dataset.artifact = v.name;
    box.append(div('jp-mlops-preview-head', v.name));
    if (v.kind === 'html' && v.html !== undefined) {
      const frame = document.createElement('iframe');
      frame.className = 'jp-mlops-figure';
      frame.setAttribute('sandbox', ''); // no scripts, no same origin: it cannot reach JupyterLab
      frame.srcdoc = v.html;
      box.append(frame);
    } else if (v.kind === 'metrics') {
      const table = document.createElement('table');
      table.className = 'jp-mlops-preview-table';
      for (const [key, value] of Object.entries(v.values ?? {})) {
        const tr = table.insertRow();
        tr.insertCell().textContent = key;
        tr.insertCell().textContent = String(value);
      }
      box.append(table);
    } else if (v.kind === 'classification') {
      if (v.matrix?.length) {
        box.append(confusion(v.labels ?? [], v.matrix));
      }
      if (v.roc && v.roc.length > 1) {
        box.append(roc(v.roc));
      }
    }
    return box;
  });
}
