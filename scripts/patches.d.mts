export function applyPatch(text: string, diff: string): { text: string; applied: number };
