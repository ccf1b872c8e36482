/**
 * Why the recorder refuses a start or a stop, in its own words. The command layer
 * (node/commands/router.ts) maps each reason to the reply code of the public contract.
 */
export type SessionRefusal =
  | "already_active"
  | "not_active"
  | "bad_schedule"
  | "session_exists"
  | "disk_full"
  | "camera_unavailable"
  | "inexact_times"
  | "clock_unsynced";

export class SessionError extends Error {
  constructor(
    readonly reason: SessionRefusal,
    message: string,
  ) {
    super(message);
  }
}
