import { hostname, networkInterfaces } from "node:os";

/** This machine's IPv4 addresses another host on the LAN can reach (no loopback). */
export function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === "IPv4" && !a.internal)
    .map((a) => a!.address);
}

/** Every name and address this machine answers to: loopback, its host name, every interface's address. */
export function ownHostNames(): string[] {
  const name = hostname().toLowerCase();
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined)
    .map((a) => a!.address.toLowerCase());
  return ["localhost", "127.0.0.1", "::1", name, `${name}.local`, ...addresses];
}
