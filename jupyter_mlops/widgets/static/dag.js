// The DAG front end for RunView and DagView. It only draws: the layout (coordinates, edge paths) and the
// state styles come from Python (jupyter_mlops/render/layout.py, style.py), so the widget, the static SVG
// and the server's view agree. Live state arrives in the synced `run` traitlet; a step's details arrive
// as a custom message answering {type: "detail", step}.
// h() and formatDuration() come from dom.js, which views/esm.py puts first.

const SVG = "http://www.w3.org/2000/svg";
const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELED"]);
const NAME_CHARS = 19;

function el(tag, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function truncate(text, n) {
  return text.length <= n ? text : text.slice(0, n - 1) + "…";
}

function render({ model, el: root }) {
  const isRun = model.get("run") !== undefined && model.get("run") !== null;
  const styles = model.get("styles");
  const defined = { fill: "#ffffff", stroke: "#6b7280", text: "#111827", icon: "■" };
  const styleOf = (state) => (state ? styles[state] || styles.PENDING : defined);
  let clockOffset = 0; // browser clock minus kernel clock, in seconds
  const now = () => Date.now() / 1000 - clockOffset;

  root.classList.add("mlops-view");
  const header = h("div", { class: "mlops-header" }, null, root);
  const title = h("span", { class: "mlops-title" }, null, header);
  const badge = h("span", { class: "mlops-badge" }, null, header);
  const bar = h("span", { class: "mlops-progress" }, null, header);
  const barFill = h("span", { class: "mlops-progress-fill" }, null, bar);
  const counts = h("span", { class: "mlops-counts" }, null, header);
  const tools = h("span", { class: "mlops-tools" }, null, header);
  const btnFit = h("button", { class: "mlops-btn", title: "fit the whole DAG" }, "fit", tools);
  const btnIn = h("button", { class: "mlops-btn", title: "zoom in (or Ctrl + wheel)" }, "+", tools);
  const btnOut = h("button", { class: "mlops-btn", title: "zoom out" }, "−", tools);
  const hint = h("span", { class: "mlops-hint" }, "drag to pan · Ctrl + wheel to zoom", tools);
  tools.prepend(hint);
  const note = h("div", { class: "mlops-note" }, null, root);
  const metricsLine = h("div", { class: "mlops-metrics" }, null, root);
  const body = h("div", { class: "mlops-body" }, null, root);
  const canvas = h("div", { class: "mlops-canvas", tabindex: "0" }, null, body);
  const panel = h("div", { class: "mlops-panel" }, null, body);
  panel.style.display = "none";
  if (!isRun) {
    title.textContent = "pipeline";
    for (const x of [badge, bar, counts]) x.style.display = "none";
  }

  const svg = el("svg", { class: "mlops-dag" }, canvas);
  const defs = el("defs", {}, svg);
  const marker = el("marker", {
    id: `mlops-arrow-${model.model_id || Math.random().toString(36).slice(2)}`,
    viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto",
  }, defs);
  el("path", { d: "M0,0L10,5L0,10z", fill: "#9ca3af" }, marker);
  const gEdges = el("g", { class: "mlops-edges" }, svg);
  const gNodes = el("g", { class: "mlops-nodes" }, svg);
  let nodes = new Map(); // step -> {g, rect, icon, name, dur}
  let layout = null;
  let view = { x: 0, y: 0, w: 1, h: 1 };

  function setView(v) {
    view = v;
    svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
  }

  // The SVG fills the output's width (up to the DAG's natural size); its height follows the viewBox.
  function size(v, scale) {
    svg.style.width = "100%";
    svg.style.maxWidth = `${Math.round(v.w * scale)}px`;
    svg.style.height = "auto";
    setView(v);
  }

  function fit() {
    const width = canvas.clientWidth || 900;
    const scale = Math.min(1, width / layout.width);
    size({ x: 0, y: 0, w: layout.width, h: Math.min(layout.height, 640 / scale) }, scale);
  }

  // A DAG that fits at a readable scale (>= 0.6) opens whole; a larger one opens at 0.75 on its start
  // (the sources), with a hint to pan; "fit" shows all of it.
  function initialView() {
    const width = canvas.clientWidth || 900;
    const fitScale = Math.min(1, width / layout.width);
    if (fitScale >= 0.6 && layout.height * fitScale <= 640) {
      hint.style.display = "none";
      size({ x: 0, y: 0, w: layout.width, h: layout.height }, fitScale);
      return;
    }
    const scale = Math.max(0.75, fitScale);
    hint.style.display = "";
    const w = Math.min(layout.width, width / scale);
    const hh = Math.min(layout.height, 640 / scale);
    // centred on the first layer, where a run starts
    const first = layout.nodes.filter((n) => n.layer === 0);
    const mid = first.length ? first.reduce((a, n) => a + n.y + n.h / 2, 0) / first.length : hh / 2;
    const y = Math.max(0, Math.min(layout.height - hh, mid - hh / 2));
    size({ x: 0, y, w, h: hh }, scale);
  }

  function zoom(factor, cx = view.x + view.w / 2, cy = view.y + view.h / 2) {
    const w = Math.min(Math.max(view.w * factor, 80), layout.width * 4);
    const hh = view.h * (w / view.w);
    setView({ x: cx - ((cx - view.x) * w) / view.w, y: cy - ((cy - view.y) * hh) / view.h, w, h: hh });
  }

  function drawLayout() {
    layout = model.get("layout");
    gEdges.replaceChildren();
    gNodes.replaceChildren();
    nodes = new Map();
    for (const e of layout.edges) {
      el("path", { d: e.d, class: "mlops-edge", "marker-end": `url(#${marker.id})` }, gEdges);
      if (e.label) {
        const t = el("text", { x: e.label_at[0], y: e.label_at[1] - 4, class: "mlops-edge-label" }, gEdges);
        t.textContent = truncate(e.label, 14);
        if (e.label.length > 14) el("title", {}, t).textContent = e.label; // the full name on hover
      }
    }
    for (const n of layout.nodes) {
      // No data-state yet: the first paint always applies a style (a not-yet-run step's state is "",
      // and a rect never painted is drawn solid black).
      const g = el("g", { class: "mlops-node", "data-step": n.id }, gNodes);
      const tip = el("title", {}, g);
      const rect = el("rect", { x: n.x, y: n.y, width: n.w, height: n.h, rx: 6 }, g);
      const icon = el("text", { x: n.x + 14, y: n.y + n.h / 2 + 5, class: "mlops-icon" }, g);
      const name = el("text", { x: n.x + 26, y: n.y + n.h / 2 + 4.5, class: "mlops-name" }, g);
      name.textContent = truncate(n.id, NAME_CHARS);
      const dur = el("text", { x: n.x + 26, y: n.y + 32, class: "mlops-dur" }, g);
      g.addEventListener("click", () => select(n.id));
      nodes.set(n.id, { g, tip, rect, icon, name, dur, box: n });
    }
    initialView();
  }

  function paintNode(id, step) {
    const n = nodes.get(id);
    if (!n) return;
    const state = step ? step.s : null;
    const st = styleOf(state);
    if (n.g.getAttribute("data-state") !== (state || "")) {
      n.g.setAttribute("data-state", state || "");
      n.rect.setAttribute("fill", st.fill);
      n.rect.setAttribute("stroke", st.stroke);
      n.rect.setAttribute("stroke-dasharray", state === "SKIPPED" ? "4 3" : "");
      n.icon.setAttribute("fill", st.stroke);
      n.icon.textContent = st.icon;
      n.name.setAttribute("fill", st.text);
      n.dur.setAttribute("fill", st.text);
    }
    let d = "";
    if (step && step.t0 !== null && step.t0 !== undefined) {
      d = formatDuration(Math.max(0, (step.t1 ?? now()) - step.t0));
    }
    // Write only what changed: the clock repaints every second, and a 200-step DAG must stay cheap.
    if (n.dur.textContent !== d) {
      n.dur.textContent = d;
      n.name.setAttribute("y", String(n.box.y + (d ? 17 : n.box.h / 2 + 4.5)));
    }
    const tip = `${id}${state ? " — " + state : ""}${d ? ", " + d : ""}`;
    if (n.tipText !== tip) {
      n.tipText = tip;
      n.tip.textContent = tip;
    }
  }

  function paintRun() {
    const run = model.get("run");
    clockOffset = Date.now() / 1000 - run.server_time;
    const st = styleOf(run.state);
    title.textContent = run.name || run.id;
    title.title = run.id;
    badge.textContent = `${st.icon} ${run.state}`;
    badge.style.color = st.stroke;
    badge.style.borderColor = st.stroke;
    root.setAttribute("data-run-state", run.state);
    barFill.style.width = `${run.total ? (100 * run.done) / run.total : 0}%`;
    barFill.style.background = st.stroke;
    const start = run.started_at ?? run.created_at;
    const elapsed = start ? formatDuration(Math.max(0, (run.finished_at ?? now()) - start)) : "";
    counts.textContent = `${run.done}/${run.total} steps${elapsed ? " · " + elapsed : ""}`;
    for (const [id] of nodes) paintNode(id, run.steps[id]);
    const metrics = Object.entries(run.metrics || {});
    metricsLine.style.display = metrics.length ? "" : "none";
    const text = metrics.map(([k, v]) => `${k} ${typeof v === "number" ? Number(v.toPrecision(6)) : v}`).join(" · ");
    if (metricsLine.textContent !== text) metricsLine.textContent = text;
    const msg = model.get("message") || run.error || "";
    note.textContent = msg;
    note.style.display = msg ? "" : "none";
  }

  // Details of one step: from Python for a run, from the edges for a not-yet-run pipeline.
  function select(id) {
    model.set("selected", id);
    model.save_changes();
    for (const [sid, n] of nodes) n.g.classList.toggle("mlops-selected", sid === id);
    if (isRun) {
      model.send({ type: "detail", step: id });
    } else {
      const inputs = {};
      const outputs = {};
      for (const e of layout.edges) {
        if (e.target === id) inputs[e.label || "(after)"] = e.source;
        if (e.source === id) outputs[e.label || "(before)"] = e.target;
      }
      showDetail({ step: id, inputs, outputs });
    }
  }

  function table(parent, caption, obj) {
    const keys = Object.keys(obj || {});
    if (!keys.length) return;
    h("div", { class: "mlops-panel-h" }, caption, parent);
    const t = h("table", { class: "mlops-kv" }, null, parent);
    for (const k of keys) {
      const tr = h("tr", {}, null, t);
      h("td", {}, k, tr);
      const v = obj[k];
      h("td", {}, typeof v === "string" ? v : v && v.repr !== undefined ? v.repr : JSON.stringify(v), tr);
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
        if (p.histogram) histogram(box, p.histogram);
        if (p.text) h("pre", { class: "mlops-preview-text" }, p.text, box);
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
        table(box, "", v.values);
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

  function showDetail(d) {
    panel.replaceChildren();
    panel.style.display = "";
    const head = h("div", { class: "mlops-panel-title" }, null, panel);
    h("b", {}, d.step, head);
    const close = h("button", { class: "mlops-btn mlops-close", title: "close" }, "×", head);
    close.addEventListener("click", () => {
      panel.style.display = "none";
      model.set("selected", "");
      model.save_changes();
      for (const [, n] of nodes) n.g.classList.remove("mlops-selected");
    });
    if (d.missing) {
      h("div", { class: "mlops-error" }, d.missing, panel);
      return;
    }
    if (d.state) {
      const st = styleOf(d.state);
      const dur = d.started_at ? formatDuration((d.finished_at ?? now()) - d.started_at) : "";
      const line = h("div", {}, `${st.icon} ${d.state}${dur ? " · " + dur : ""}`, panel);
      line.style.color = st.stroke;
      if (d.attempts > 1) h("div", {}, `attempts: ${d.attempts}`, panel);
    }
    if (d.error) h("pre", { class: "mlops-error" }, d.error, panel);
    if (isRun && d.state === "FAILED") {
      const title = "load the inputs this step received into the notebook, and show its cell's code";
      const btn = h("button", { class: "mlops-btn mlops-debug", title }, "debug in the notebook", panel);
      btn.addEventListener("click", () => model.send({ type: "debug", step: d.step }));
      h("div", { class: "mlops-debug-answer" }, null, panel);
    }
    table(panel, "inputs", d.inputs);
    table(panel, "outputs", d.outputs);
    table(panel, "metrics", d.metrics);
    histories(panel, d.histories);
    previews(panel, d.previews);
    figures(panel, d.figures);
    visuals(panel, d.visuals);
    if (d.log !== undefined) {
      const title = "kfp's executor lines are left out here; %pipeline logs RUN STEP shows every line";
      h("div", { class: "mlops-panel-h", title }, d.log_truncated ? "log (last part)" : "log", panel);
      const pre = h("pre", { class: "mlops-log" }, d.log || "(empty)", panel);
      pre.scrollTop = pre.scrollHeight;
    }
  }

  function showDebug(d) {
    const box = panel.querySelector(".mlops-debug-answer");
    if (!box) return;
    box.replaceChildren();
    if (d.error) {
      h("pre", { class: "mlops-error" }, `${d.error}\n(${d.magic})`, box);
      return;
    }
    const loaded = d.loaded.length ? d.loaded.join(", ") : "no inputs";
    const gone = d.unbound.length ? `; not defined, as in the step: ${d.unbound.join(", ")}` : "";
    h("div", {}, `In the notebook now, as the step received them: ${loaded}${gone}. Run its code in a cell:`, box);
    const code = h("pre", { class: "mlops-log mlops-debug-code" }, d.code, box);
    const copy = h("button", { class: "mlops-btn", title: "copy the cell's code" }, "copy", box);
    copy.addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(code.textContent));
  }

  function onCustom(msg) {
    if (msg && msg.type === "detail" && msg.step === model.get("selected")) showDetail(msg);
    if (msg && msg.type === "debug" && msg.step === model.get("selected")) showDebug(msg);
  }

  // pan by dragging, zoom with Ctrl/⌘ + wheel (a plain wheel scrolls the notebook, as users expect)
  let drag = null;
  const onDown = (ev) => {
    if (ev.target.closest && ev.target.closest(".mlops-node")) return;
    drag = { x: ev.clientX, y: ev.clientY, view: { ...view } };
    canvas.classList.add("mlops-dragging");
  };
  const onMove = (ev) => {
    if (!drag) return;
    const k = view.w / (svg.clientWidth || 1);
    setView({ ...drag.view, x: drag.view.x - (ev.clientX - drag.x) * k, y: drag.view.y - (ev.clientY - drag.y) * k });
  };
  const onUp = () => {
    drag = null;
    canvas.classList.remove("mlops-dragging");
  };
  const onWheel = (ev) => {
    if (!(ev.ctrlKey || ev.metaKey)) return;
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    const cx = view.x + ((ev.clientX - r.left) / (r.width || 1)) * view.w;
    const cy = view.y + ((ev.clientY - r.top) / (r.height || 1)) * view.h;
    zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
  };
  svg.addEventListener("mousedown", onDown);
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  svg.addEventListener("wheel", onWheel, { passive: false });
  btnFit.addEventListener("click", fit);
  btnIn.addEventListener("click", () => zoom(1 / 1.25));
  btnOut.addEventListener("click", () => zoom(1.25));

  // A ticking clock only while the run can still change: a finished view does no work at all.
  let timer = null;
  let detailTimer = null;
  function syncTimers() {
    const live = isRun && !TERMINAL.has(model.get("run").state);
    if (live && timer === null) {
      timer = setInterval(paintRun, 1000);
      detailTimer = setInterval(() => {
        const sel = model.get("selected");
        const step = sel && model.get("run").steps[sel];
        if (step && !["SUCCEEDED", "FAILED", "CANCELED", "SKIPPED", "CACHED"].includes(step.s)) {
          model.send({ type: "detail", step: sel });
        }
      }, 1500);
    } else if (!live && timer !== null) {
      clearInterval(timer);
      clearInterval(detailTimer);
      timer = detailTimer = null;
    }
  }

  let lastSelectedState = null;
  const onRun = () => {
    paintRun();
    syncTimers();
    const sel = model.get("selected");
    const s = sel && model.get("run").steps[sel];
    if (s && s.s !== lastSelectedState) {
      lastSelectedState = s.s;
      model.send({ type: "detail", step: sel }); // the step finished or failed: show its final log
    }
  };
  const onLayout = () => {
    drawLayout();
    if (isRun) paintRun();
    else for (const [id] of nodes) paintNode(id, null);
  };
  model.on("change:layout", onLayout);
  model.on("msg:custom", onCustom);
  if (isRun) {
    model.on("change:run", onRun);
    model.on("change:message", paintRun);
  }
  onLayout();
  syncTimers();
  const sel = model.get("selected");
  if (sel && nodes.has(sel)) select(sel); // a re-drawn output keeps the open panel

  return () => {
    if (timer !== null) clearInterval(timer);
    if (detailTimer !== null) clearInterval(detailTimer);
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
    model.off("change:layout", onLayout);
    model.off("msg:custom", onCustom);
    if (isRun) {
      model.off("change:run", onRun);
      model.off("change:message", paintRun);
    }
  };
}

export default { render };
