// Types of timecode-format.js (the page's copy of contract/timecode.ts's text), for the unit test.
export declare const TIMECODE_PREFIX: string;
export declare function formatTimecode(epochUs: number): string;
