/** See format.js: the one duration formatter of the front ends. */
export declare function formatDuration(seconds: number | null | undefined): string;
