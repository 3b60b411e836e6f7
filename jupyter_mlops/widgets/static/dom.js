// DOM helpers shared by every view's front end: `views/esm.py` puts this file before each view's module
// (anywidget takes one module per widget; this keeps them free of a bundler).

function h(tag, attrs = {}, text = null, parent = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
