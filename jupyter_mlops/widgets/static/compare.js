// Compare runs: tables from Python (views/compare.py), differing rows highlighted; the select picks which
// of the Python-drawn metric charts shows.
// h() comes from dom.js and formatDuration(), formatMetric() from format.js, which widgets/esm.py puts first.

function fmt(v) {
  return v === null || v === undefined ? "—" : formatMetric(v);
}

function render({ model, el }) {
  el.classList.add("mlops-view");
  const runs = model.get("runs");
  const styles = model.get("styles");

  function section(caption, rows) {
    if (!rows.length) return;
    const t = h("table", { class: `mlops-table mlops-compare-${caption}` }, null, el);
    const head = h("tr", {}, null, t);
    h("th", {}, caption, head);
    for (const r of runs) {
      const th = h("th", { title: r.id }, r.label, head);
      th.style.color = (styles[r.state] || styles.PENDING).stroke;
    }
    for (const row of rows) {
      const tr = h("tr", { "data-key": row.key }, null, t);
      if (row.diff) {
        tr.classList.add("mlops-diff");
        tr.title = "differs between runs";
      }
      h("td", {}, row.key, tr);
      for (const v of row.values) {
        const td = h("td", {}, fmt(v), tr);
        if (typeof v === "number") td.classList.add("mlops-num");
      }
    }
    h("div", { style: "height:8px" }, null, el);
  }

  section("parameters", model.get("params"));
  section("metrics", model.get("metrics"));
  const charts = model.get("charts");
  const names = Object.keys(charts);
  if (!names.length) {
    h("div", { class: "mlops-counts" }, "no metrics to chart", el);
    return () => {};
  }
  const bar = h("div", { class: "mlops-filters" }, null, el);
  h("span", {}, "chart of", bar);
  const sel = h("select", { class: "mlops-metric-select" }, null, bar);
  for (const n of names) h("option", { value: n }, n, sel);
  const chart = h("div", { class: "mlops-chart-box" }, null, el);
  const draw = () => {
    const chosen = names.includes(model.get("chosen")) ? model.get("chosen") : names[0];
    sel.value = chosen;
    chart.innerHTML = charts[chosen]; // SVG built and escaped in Python
  };
  sel.addEventListener("change", () => {
    model.set("chosen", sel.value);
    model.save_changes();
  });
  model.on("change:chosen", draw);
  draw();
  return () => model.off("change:chosen", draw);
}

export default { render };
