/** See format.js: the one duration formatter of the front ends. */
export declare function formatDuration(seconds: number | null | undefined): string;
/** See format.js: a metric's value with 6 significant digits, as every view writes it. */
export declare function formatMetric(value: unknown): string;
