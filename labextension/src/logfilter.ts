/**
 * A step's log without kfp's own bookkeeping: the executor's INFO lines and the executor_input JSON
 * it prints before a step runs (dozens of lines per step). Warnings and errors stay. The same rules
 * as jupyter_mlops/render/log_filter.py, for a log read in chunks.
 */
const INFO = /^\[KFP Executor [^\]]* INFO\]: (.*)$/;
const PREFIX = '[KFP Executor ';
const JSON_START = 'Got executor_input:';

export class ExecutorLines {
  /**
   * The part of `text` to show. A line that may be kfp's is held back until it ends; any other
   * partial line goes through at once, so a progress line without a newline still shows live.
   */
  push(text: string, final = false): string {
    const out: string[] = [];
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf('\n', start);
      const terminated = end >= 0;
      const piece = terminated ? text.slice(start, end) : text.slice(start);
      start = terminated ? end + 1 : text.length;
      if (this._passing) {
        out.push(terminated ? piece + '\n' : piece);
        this._passing = !terminated;
        continue;
      }
      const line = this._pending + piece;
      if (terminated) {
        this._pending = '';
        if (this._keep(line)) {
          out.push(line + '\n');
        }
      } else if (this._inJson || PREFIX.startsWith(line) || line.startsWith(PREFIX)) {
        this._pending = line;
      } else {
        out.push(line);
        this._pending = '';
        this._passing = true;
      }
    }
    if (final && this._pending) {
      if (this._keep(this._pending)) {
        out.push(this._pending);
      }
      this._pending = '';
    }
    return out.join('');
  }

  private _keep(line: string): boolean {
    if (this._inJson) {
      if (line === '}') {
        this._inJson = false;
      }
      return false;
    }
    const match = INFO.exec(line);
    if (match === null) {
      return true;
    }
    if (match[1] === JSON_START) {
      this._inJson = true;
    }
    return false;
  }

  private _pending = '';
  private _passing = false;
  private _inJson = false;
}
