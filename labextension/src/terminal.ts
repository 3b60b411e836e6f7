// The widgets' carriage-return handling, bundled into the sidebar: one rule for both front ends.
export { asATerminalShows } from '../../jupyter_mlops/widgets/static/terminal.js';
