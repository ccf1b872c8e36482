import type { ErrorReply } from "./generated/payloads.js";

export type ErrorCode = ErrorReply["code"];

/** The one table of reply codes; docs/api.md is generated from it. */
export const ERROR_CODES: Readonly<Record<ErrorCode, string>> = {
  INVALID_JSON: "The payload is neither JSON nor a bare command word, or is not valid UTF-8.",
  INVALID_PAYLOAD:
    "Valid JSON that does not match the command's schema (wrong type, unknown field, bad name).",
  PAYLOAD_TOO_LARGE: "The payload exceeds --max-payload-bytes; it was not parsed.",
  UNKNOWN_CMD: "The cmd is not one this node knows.",
  ALREADY_RECORDING: "start while a session is scheduled, recording or stopping.",
  NOT_RECORDING: "stop while no session is scheduled or recording.",
  SESSION_EXISTS: "start with a session name whose folder already holds batches on this node.",
  BAD_SCHEDULE: "at is in the past or more than 24 h ahead.",
  CAMERA_UNAVAILABLE: "The camera could not be opened, or gave no frame within --start-timeout.",
  INEXACT_TIMES:
    "The camera's frames cannot be given exact wall-clock times: a network camera silent for longer than --camera-wait, or a stream ffmpeg reads on a coarse clock that labx cannot replace (the message says which and what helps). Nothing was recorded.",
  CLOCK_UNSYNCED:
    "start with require_sync (or a node run with --require-sync) while the node's clock is not synchronized; the message says why.",
  DISK_FULL: "Less than --min-free-mb free in the data directory.",
  INTERNAL: "An unexpected failure on the node; the message says what, the node's log says more.",
};

export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
