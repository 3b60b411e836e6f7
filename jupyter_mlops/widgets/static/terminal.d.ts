/** See terminal.js: a log as a terminal shows it (carriage returns applied). */
export declare function asATerminalShows(text: string): string;
