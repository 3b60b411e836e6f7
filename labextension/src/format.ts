// The widgets' duration formatter, bundled into the sidebar: one formatter for both front ends.
export { formatDuration, formatMetric } from '../../jupyter_mlops/widgets/static/format.js';
