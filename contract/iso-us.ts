/** An ISO time of the contract (µs digits kept, as batches carry them) as epoch µs. */
export const isoUs = (iso: string): number => {
  const m = /\.(\d+)Z$/.exec(iso);
  return Math.floor(Date.parse(iso) / 1000) * 1e6 + (m ? Number(m[1]!.padEnd(6, "0").slice(0, 6)) : 0);
};
