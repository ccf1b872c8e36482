import { readFileSync } from "node:fs";

/** A file named in the configuration cannot be used: an exit 2, as a bad value is. */
export class ConfigFileError extends Error {}

/**
 * A file named by a configuration option (a certificate, a key, a CA), read once at start. A missing
 * or unreadable one is an error that names the option and the file, never what was in it.
 */
export function readConfiguredFile(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigFileError(
      `${option}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** A certificate and its key, which go together: both read, or null when neither is configured. */
export function readCertificatePair(
  cert: { option: string; file: string },
  key: { option: string; file: string },
): { cert: Buffer; key: Buffer } | null {
  if (Boolean(cert.file) !== Boolean(key.file))
    throw new ConfigFileError(`${cert.option} and ${key.option} go together`);
  if (!cert.file) return null;
  return { cert: readConfiguredFile(cert.option, cert.file), key: readConfiguredFile(key.option, key.file) };
}
