import { open } from "node:fs/promises";

/** Writes (flag "w") or appends ("a") text and fsyncs it before resolving: on disk when this returns. */
export async function writeSynced(file: string, text: string, flag: "w" | "a" = "w"): Promise<void> {
  const h = await open(file, flag);
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
}
