// Runs table: the rows and columns come from Python (views/runs_widget.py); this sorts and filters them.
// The chosen filters and sort are synced back, so Python's static fallback shows the same view.
// h() comes from dom.js and formatDuration() from format.js, which widgets/esm.py puts first.

function value(row, key) {
  if (key.startsWith("param:")) return row.params[key.slice(6)];
  if (key.startsWith("metric:")) return row.metrics[key.slice(7)];
  return row[key];
}

function compare(a, b) {
  const na = typeof a === "number" || typeof a === "boolean";
  const nb = typeof b === "number" || typeof b === "boolean";
  if (na && nb) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  return String(a).localeCompare(String(b));
}

function render({ model, el }) {
  el.classList.add("mlops-view");
  const filters = h("div", { class: "mlops-filters" }, null, el);
  h("span", {}, "experiment", filters);
  const expSel = h("select", { class: "mlops-filter-experiment" }, null, filters);
  h("span", {}, "state", filters);
  const stateSel = h("select", { class: "mlops-filter-state" }, null, filters);
  const count = h("span", { class: "mlops-counts" }, null, filters);
  const refresh = h("button", { class: "mlops-btn", title: "ask the backend again" }, "refresh", filters);
  const wrap = h("div", { style: "overflow:auto; max-height: 520px" }, null, el);
  const table = h("table", { class: "mlops-table mlops-runs" }, null, wrap);

  function fillSelect(sel, values, current) {
    sel.replaceChildren();
    h("option", { value: "" }, "all", sel);
    for (const v of values) h("option", { value: v }, v, sel);
    sel.value = values.includes(current) ? current : "";
  }

  function draw() {
    const rows = model.get("rows");
    const columns = model.get("columns");
    const styles = model.get("styles");
    const exp = model.get("experiment");
    const state = model.get("state");
    fillSelect(expSel, [...new Set(rows.map((r) => r.experiment))].sort(), exp);
    fillSelect(stateSel, [...new Set(rows.map((r) => r.state))].sort(), state);
    const key = model.get("sort_key");
    const desc = model.get("sort_desc");
    let shown = rows.filter((r) => (!exp || r.experiment === exp) && (!state || r.state === state));
    const present = shown.filter((r) => value(r, key) !== undefined && value(r, key) !== null);
    const missing = shown.filter((r) => value(r, key) === undefined || value(r, key) === null);
    present.sort((a, b) => (desc ? -1 : 1) * compare(value(a, key), value(b, key)));
    shown = present.concat(missing);
    count.textContent = `${shown.length} of ${rows.length} runs`;

    table.replaceChildren();
    const head = h("tr", {}, null, table);
    for (const c of columns) {
      const th = h("th", { "data-key": c.key, title: c.kind === "param" ? "parameter" : c.kind }, c.label, head);
      if (c.key === key) th.classList.add(desc ? "mlops-sorted-desc" : "mlops-sorted-asc");
      if (c.kind === "param") th.style.fontStyle = "italic";
      th.addEventListener("click", () => {
        if (model.get("sort_key") === c.key) model.set("sort_desc", !model.get("sort_desc"));
        else {
          model.set("sort_key", c.key);
          model.set("sort_desc", c.kind === "metric" || c.kind === "time");
        }
        model.save_changes();
      });
    }
    for (const r of shown) {
      const tr = h("tr", { "data-run": r.id, title: r.id }, null, table);
      for (const c of columns) {
        const v = value(r, c.key);
        let text = v === undefined || v === null ? "" : String(v);
        const td = h("td", {}, null, tr);
        if (c.kind === "state") {
          const st = styles[v] || styles.PENDING;
          text = `${st.icon} ${v}`;
          td.style.color = st.stroke;
        } else if (c.kind === "time") {
          text = r.created;
        } else if (c.kind === "duration") {
          text = formatDuration(v);
          td.classList.add("mlops-num");
        } else if (c.kind === "metric" && typeof v === "number") {
          text = Number(v.toPrecision(6)).toString();
          td.classList.add("mlops-num");
        }
        td.textContent = text;
      }
    }
  }

  const onExp = () => {
    model.set("experiment", expSel.value);
    model.save_changes();
  };
  const onState = () => {
    model.set("state", stateSel.value);
    model.save_changes();
  };
  expSel.addEventListener("change", onExp);
  stateSel.addEventListener("change", onState);
  refresh.addEventListener("click", () => model.send({ type: "refresh" }));
  const events = ["change:rows", "change:columns", "change:experiment", "change:state", "change:sort_key", "change:sort_desc"];
  for (const e of events) model.on(e, draw);
  draw();
  return () => {
    for (const e of events) model.off(e, draw);
  };
}

export default { render };
