// Names that end up in topics and paths: node ids, groups and sessions share one character set,
// which by construction cannot contain '/', '.', '+', '#', NUL or whitespace.
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The command target every node answers to. */
export const BROADCAST = "all";
/** Where the fleet monitor publishes (<base>/fleet/clock, <base>/fleet/availability). */
export const FLEET = "fleet";
/** Every name the tools use at <base>/<name>/…: no node id or group may take one. */
export const RESERVED_NAMES: readonly string[] = [BROADCAST, FLEET];

export function isName(value: unknown): value is string {
  return typeof value === "string" && NAME_PATTERN.test(value);
}

export function isReserved(value: string): boolean {
  return RESERVED_NAMES.includes(value);
}

/** A convict format: a valid, unreserved name, or a clear error. */
export function assertName(value: unknown): void {
  if (!isName(value)) throw new Error("must be 1-64 characters of A-Z a-z 0-9 _ -");
  if (isReserved(value)) throw new Error(`"${value}" is reserved (${RESERVED_NAMES.join(", ")})`);
}

/** What a command may be sent to: a node id, a group, or `all`. */
export function isTarget(value: unknown): value is string {
  return isName(value) && (value === BROADCAST || !isReserved(value));
}
