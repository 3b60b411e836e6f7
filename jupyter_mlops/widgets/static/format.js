// How long something took, as every front end writes it: '0.4s', '12s', '3m 05s', '1h 02m' (the same rules
// as render/style.py's format_duration, which tests/views/test_duration_format.py checks against this
// file). One file for both front ends: views/esm.py puts it first in each widget's module, and the
// JupyterLab sidebar imports it (labextension/src/format.ts).
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  let s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  let m = Math.floor(s / 60);
  s = s % 60;
  if (m < 60) return `${m}m ${String(s).padStart(2, "0")}s`;
  const hours = Math.floor(m / 60);
  m = m % 60;
  return `${hours}h ${String(m).padStart(2, "0")}m`;
}

// A metric's value as every view writes it: 6 significant digits (0.465854, as the terminal's `.6g`),
// whole numbers and non-finite ones as they are; text as it is.
export function formatMetric(value) {
  if (typeof value !== "number") return typeof value === "string" ? value : JSON.stringify(value);
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}
