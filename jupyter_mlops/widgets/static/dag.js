// The DAG front end for RunView and DagView. It only draws: the layout (coordinates, edge paths) and the
// state styles come from Python (jupyter_mlops/render/layout.py, style.py), so the widget, the static SVG
// and the server's view agree. Live state arrives in the synced `run` traitlet; a step's details arrive
// as a custom message answering {type: "detail", step}.
// h() comes from dom.js and formatDuration() from format.js, which widgets/esm.py puts first.

const SVG = "http://www.w3.org/2000/svg";
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
    layout = model.get("dag");
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
    const text = metrics.map(([k, v]) => `${k} ${formatMetric(v)}`).join(" · ");
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

  function table(parent, caption, obj, metrics = false) {
    const keys = Object.keys(obj || {});
    if (!keys.length) return;
    h("div", { class: "mlops-panel-h" }, caption, parent);
    const t = h("table", { class: "mlops-kv" }, null, parent);
    for (const k of keys) {
      const tr = h("tr", {}, null, t);
      h("td", {}, k, tr);
      const v = obj[k];
      const shown = metrics ? formatMetric(v) : typeof v === "string" ? v : v && v.repr !== undefined ? v.repr : JSON.stringify(v);
      h("td", {}, shown, tr);
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
    table(panel, "metrics", d.metrics, true);
    histories(panel, d.histories);
    previews(panel, d.previews);
    figures(panel, d.figures);
    visuals(panel, d.visuals);
    if (d.tensorboard) {
      const attrs = { class: "mlops-tensorboard", href: d.tensorboard, target: "_blank", rel: "noopener" };
      h("a", attrs, "Open in TensorBoard", h("div", {}, null, panel));
    }
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
    const live = isRun && !model.get("run").terminal;
    if (live && timer === null) {
      timer = setInterval(paintRun, 1000);
      detailTimer = setInterval(() => {
        const sel = model.get("selected");
        const step = sel && model.get("run").steps[sel];
        if (step && !step.end) {
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
  model.on("change:dag", onLayout);
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
    model.off("change:dag", onLayout);
    model.off("msg:custom", onCustom);
    if (isRun) {
      model.off("change:run", onRun);
      model.off("change:message", paintRun);
    }
  };
}

export default { render };
