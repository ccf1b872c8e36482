import type { ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

// The programs the suite starts for real come from Debian packages that scripts/test.sh installs. One
// that is missing is said at once, with the package to install: not a spawn ENOENT thrown from an event
// nobody listens to, not a wait for a port nobody will open.

export class MissingProgramError extends Error {}

const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The program's absolute path (PATH, then the system's bin folders), or a MissingProgramError. */
export function requireProgram(name: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new MissingProgramError(
    `${name} is not installed: apt-get install ${debianPackage} (./scripts/test.sh installs everything the tests start)`,
  );
}

/**
 * Rejects when the child fails to start or exits, with what it said on stderr when that was piped
 * and collected: raced against a wait for its port, a dead server fails the wait at once.
 */
export function exitedEarly(child: ChildProcess, what: string, stderr?: () => string): Promise<never> {
  return new Promise((_, reject) => {
    child.once("error", (err) => reject(new Error(`${what} could not start: ${err.message}`)));
    // "close", not "exit": what it said is read to the end by then.
    child.once("close", (code, signal) => {
      const said = stderr?.().trim().split("\n").slice(-5).join("\n");
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready${said ? `: ${said}` : ""}`));
    });
  });
}
