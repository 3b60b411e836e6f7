// What a step made, for the run view's step panel (issue 11): previews of its values, its metric
// histories, the figures it showed and KFP's visual artifacts. Plain functions of the data the kernel
// sends (widgets/run_widget.py step_detail); widgets/esm.py puts this file after dom.js, before dag.js,
// whose el() they use.

function kvTable(parent, obj) {
  const t = h("table", { class: "mlops-kv" }, null, parent);
  for (const [k, v] of Object.entries(obj || {})) {
    const tr = h("tr", {}, null, t);
    h("td", {}, k, tr);
    h("td", {}, typeof v === "string" ? v : JSON.stringify(v), tr);
  }
}

// A look at each output, made by the step when it stored it (views/values_shown.py, step_previews.py).
function previews(parent, items) {
  if (!items || !Object.keys(items).length) return;
  h("div", { class: "mlops-panel-h" }, "previews", parent);
  for (const [name, p] of Object.entries(items)) {
    const box = h("div", { class: "mlops-preview", "data-output": name }, null, parent);
    const caption = h("div", { class: "mlops-preview-h" }, null, box);
    h("b", {}, name, caption);
    if (p.kind === "table") {
      caption.append(` · ${p.shape[0]} rows × ${p.shape[1]} columns`);
      const t = h("table", { class: "mlops-preview-table" }, null, box);
      const head = h("tr", {}, null, t);
      h("th", {}, "", head);
      p.columns.forEach((c, i) => h("th", { title: p.dtypes[i] }, c, head));
      p.rows.forEach((row, r) => {
        const tr = h("tr", {}, null, t);
        h("th", {}, p.index[r], tr);
        for (const cell of row) h("td", {}, cell, tr);
      });
    } else if (p.kind === "array") {
      caption.append(` · ${p.dtype} (${p.shape.join(", ")})`);
      if (p.min !== undefined) {
        const f = (x) => (Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : +x.toFixed(4));
        const approx = p.sampled ? " (of a sample)" : "";
        h("div", { class: "mlops-preview-stats" }, `min ${f(p.min)} · max ${f(p.max)} · mean ${f(p.mean)}${approx}`, box);
      }
      if (p.png) h("img", { class: "mlops-thumb", src: `data:image/png;base64,${p.png}`, alt: name }, null, box);
      if (p.histogram) histogram(box, p.histogram);
      if (p.text) h("pre", { class: "mlops-preview-text" }, p.text, box);
    } else if (p.kind === "image") {
      caption.append(` \u00b7 image ${p.size.join(" \u00d7 ")} ${p.mode}`);
      h("img", { class: "mlops-thumb", src: `data:image/png;base64,${p.png}`, alt: name }, null, box);
    } else if (p.text !== undefined) {
      h("pre", { class: "mlops-preview-text" }, p.text, box);
    }
  }
}

// log_metric(name, value, step=i) histories: one small line chart per metric, values on hover.
function histories(parent, series) {
  if (!series || !Object.keys(series).length) return;
  h("div", { class: "mlops-panel-h" }, "metric history", parent);
  const W = 240, H = 70, P = 4;
  for (const [name, points] of Object.entries(series)) {
    const box = h("div", { class: "mlops-history", "data-metric": name }, null, parent);
    const last = points[points.length - 1];
    h("div", { class: "mlops-preview-h" }, `${name} · last ${+last[1].toPrecision(5)} at ${last[0]}`, box);
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const sx = (x) => P + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * P);
    const sy = (y) => H - P - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * P);
    const svgEl = el("svg", { class: "mlops-chart", width: W, height: H + 12, viewBox: `0 0 ${W} ${H + 12}` }, box);
    el("polyline", {
      points: points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" "),
      fill: "none", stroke: "#2563eb", "stroke-width": 1.5,
    }, svgEl);
    for (const p of points) {
      const dot = el("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: "#2563eb", "fill-opacity": 0.25 }, svgEl);
      el("title", {}, dot).textContent = `${name} at ${p[0]}: ${p[1]}`;
    }
    const lo = el("text", { x: 0, y: H + 11, "font-size": 9, fill: "#6b7280" }, svgEl);
    lo.textContent = `${+y0.toPrecision(4)} – ${+y1.toPrecision(4)}`;
  }
}

function histogram(parent, hist) {
  const W = 200, H = 40, n = hist.counts.length, top = Math.max(1, ...hist.counts);
  const svgEl = el("svg", { class: "mlops-hist", width: W, height: H + 12, viewBox: `0 0 ${W} ${H + 12}` }, parent);
  hist.counts.forEach((c, i) => {
    const bh = (c / top) * H;
    const bar = el("rect", { x: (i * W) / n + 0.5, y: H - bh, width: W / n - 1, height: bh, fill: "#60a5fa" }, svgEl);
    el("title", {}, bar).textContent = String(c);
  });
  const lo = el("text", { x: 0, y: H + 11, "font-size": 9, fill: "#6b7280" }, svgEl);
  lo.textContent = String(+hist.edges[0].toPrecision(4));
  const hi = el("text", { x: W, y: H + 11, "font-size": 9, fill: "#6b7280", "text-anchor": "end" }, svgEl);
  hi.textContent = String(+hist.edges[1].toPrecision(4));
}

// KFP's visual artifacts, as the KFP UI shows them (store/kfp_artifacts.py).
function visuals(parent, items) {
  if (!items || !items.length) return;
  for (const v of items) {
    h("div", { class: "mlops-panel-h" }, v.name, parent);
    const box = h("div", { class: `mlops-visual mlops-visual-${v.kind}`, "data-artifact": v.name }, null, parent);
    if (v.kind === "html") {
      const frame = h("iframe", { class: "mlops-figure", sandbox: "" }, null, box);
      frame.srcdoc = v.html;
    } else if (v.kind === "metrics") {
      kvTable(box, v.values);
    } else if (v.kind === "classification") {
      if (v.matrix && v.matrix.length) confusion(box, v.labels, v.matrix);
      if (v.roc && v.roc.length > 1) roc(box, v.roc);
    }
  }
}

function confusion(parent, labels, matrix) {
  const top = Math.max(1, ...matrix.flat());
  const t = h("table", { class: "mlops-preview-table mlops-confusion" }, null, parent);
  const head = h("tr", {}, null, t);
  h("th", { title: "true \\ predicted" }, "true \\ pred", head);
  for (const l of labels) h("th", {}, l, head);
  matrix.forEach((row, i) => {
    const tr = h("tr", {}, null, t);
    h("th", {}, labels[i] ?? String(i), tr);
    row.forEach((n, j) => {
      const td = h("td", { title: `true ${labels[i]}, predicted ${labels[j]}: ${n}` }, String(n), tr);
      td.style.background = `rgba(37, 99, 235, ${(0.08 + 0.7 * (n / top)).toFixed(2)})`;
    });
  });
}

function roc(parent, points) {
  const S = 160, P = 20;
  const svgEl = el("svg", { class: "mlops-roc", width: S + P, height: S + P, viewBox: `0 0 ${S + P} ${S + P}` }, parent);
  const sx = (x) => P + x * (S - 4), sy = (y) => S - y * (S - 4);
  el("rect", { x: P, y: 4, width: S - 4, height: S - 4, fill: "none", stroke: "#e5e7eb" }, svgEl);
  el("line", { x1: sx(0), y1: sy(0), x2: sx(1), y2: sy(1), stroke: "#d1d5db", "stroke-dasharray": "3 3" }, svgEl);
  el("polyline", { points: points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" "), fill: "none", stroke: "#2563eb", "stroke-width": 2 }, svgEl);
  for (const p of points) {
    const dot = el("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: "#2563eb" }, svgEl);
    el("title", {}, dot).textContent = `threshold ${p[2]}: false positive rate ${p[0]}, recall ${p[1]}`;
  }
  const xl = el("text", { x: P + S / 2, y: S + P - 2, "font-size": 9, "text-anchor": "middle", fill: "#6b7280" }, svgEl);
  xl.textContent = "false positive rate";
  const yl = el("text", { x: 9, y: S / 2, "font-size": 9, "text-anchor": "middle", fill: "#6b7280", transform: `rotate(-90 9 ${S / 2})` }, svgEl);
  yl.textContent = "recall (ROC)";
}

// What the step showed, in order: images as images, HTML in a sandboxed frame (no scripts, no
// same origin: a step's HTML cannot reach the notebook), Markdown as its text.
function figures(parent, items) {
  if (!items || !items.length) return;
  h("div", { class: "mlops-panel-h" }, "figures", parent);
  const box = h("div", { class: "mlops-figures" }, null, parent);
  for (const f of items) {
    if (f.omitted) {
      h("div", { class: "mlops-note" }, `${f.file}: too large to show here (download it from the sidebar)`, box);
    } else if (f.data !== undefined) {
      h("img", { class: "mlops-figure", src: `data:${f.mime};base64,${f.data}`, alt: f.file, "data-file": f.file }, null, box);
    } else if (f.mime === "text/html") {
      const frame = h("iframe", { class: "mlops-figure", sandbox: "", "data-file": f.file }, null, box);
      frame.srcdoc = f.text;
    } else {
      h("pre", { class: "mlops-figure", "data-file": f.file }, f.text, box);
    }
  }
}
