// DOM helpers shared by every view's front end: `views/esm.py` puts this file before each view's module
// (anywidget takes one module per widget; this keeps them free of a bundler).

function h(tag, attrs = {}, text = null, parent = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

// Same rules as style.format_duration in Python.
function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  let s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  let m = Math.floor(s / 60);
  s = s % 60;
  if (m < 60) return `${m}m ${String(s).padStart(2, "0")}s`;
  const hh = Math.floor(m / 60);
  m = m % 60;
  return `${hh}h ${String(m).padStart(2, "0")}m`;
}
