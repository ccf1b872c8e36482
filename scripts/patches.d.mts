export function applyPatch(text: string, diff: string): { text: string; applied: number };
export function filesOf(diff: string): { target: string; diff: string }[];
