// A log as a terminal shows it: a carriage return (a progress bar: tqdm, Keras) goes back to the start of
// the line, so only what was written after the last one stays; "\r\n" is a newline. The same rules as
// render/terminal_text.py (tests/views/test_terminal_text.py runs both on the same logs). The sidebar
// keeps a step's log in this form as chunks arrive (labextension/src/terminal.ts), so a bar that
// redrew itself a thousand times stays one line. The end of a line whose newline has not come yet keeps
// its trailing "\r" (the "\n" may follow in the next chunk).
export function asATerminalShows(text) {
  if (text.indexOf("\r") < 0) return text;
  const lines = text.split("\n");
  const last = lines.length - 1;
  return lines
    .map((line, i) => {
      const open = i === last && line.endsWith("\r"); // its "\n" may come next
      const body = line.replace(/\r+$/, "");
      const shown = body.slice(body.lastIndexOf("\r") + 1);
      return open ? shown + "\r" : shown;
    })
    .join("\n");
}
