// Names that end up in topics and paths: node ids, groups and sessions share one character set,
// which by construction cannot contain '/', '.', '+', '#', NUL or whitespace.
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const RESERVED_NAMES: readonly string[] = ["all"];

export function isName(value: unknown): value is string {
  return typeof value === "string" && NAME_PATTERN.test(value);
}

/** A convict format: a valid, unreserved name, or a clear error. */
export function assertName(value: unknown): void {
  if (!isName(value)) throw new Error("must be 1-64 characters of A-Z a-z 0-9 _ -");
  if (RESERVED_NAMES.includes(value)) throw new Error(`"${value}" is reserved`);
}
