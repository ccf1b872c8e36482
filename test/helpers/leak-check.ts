// Loaded into every test file's process (npm test: --import): once the file's tests are done, any
// handle still open (a timer, a socket, a child process, a file being watched) is a leak, and the
// file fails naming it. Without this, a leak only shows as a test process that never exits.
import { after } from "node:test";

/** What the runner itself holds while it reports: its stdio and the IPC/pipes to the parent. */
const RUNNER = new Set(["TTYWrap", "PipeWrap", "FSReqCallback", "CloseReq"]);

after(async () => {
  // Sockets and children closed in the last test's finally need a tick or two to be released.
  let leaked: string[] = [];
  for (let i = 0; i < 50; i++) {
    leaked = process.getActiveResourcesInfo().filter((r) => !RUNNER.has(r));
    if (leaked.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  // The polling timer above is gone by now; anything left is the file's.
  leaked = process.getActiveResourcesInfo().filter((r) => !RUNNER.has(r));
  if (leaked.length === 0) return;
  // The leak would keep this process alive forever: end it once the failure is reported.
  setTimeout(() => process.exit(1), 2000).unref();
  throw new Error(`leaked handles after the last test: ${leaked.join(", ")}`);
});
