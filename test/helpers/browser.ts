import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { pino } from "pino";
import type { Config } from "../../platform/config/config.js";
import { createDashboard } from "../../cli/dashboard.js";
import type { UiServer } from "../../ui/ui-server.js";
import { testConfig } from "./node.js";
import { systemClock } from "../../platform/clock.js";

/** Debian's Chromium (no browser download is possible here); LABX_CHROMIUM names another. */
export const CHROMIUM = process.env.LABX_CHROMIUM ?? "/usr/bin/chromium";

/** Real headless Chromium, driven by playwright-core. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install chromium, or set LABX_CHROMIUM`);
  // Root (CI, containers) cannot use Chromium's sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** The dashboard as `labx ui` wires it, on a free loopback port. */
export async function startDashboardFor(
  overrides: Partial<Config> & { broker_url: string },
): Promise<UiServer> {
  const ui = createDashboard(
    testConfig({ ui_port: 0, ui_host: "127.0.0.1", ...overrides }),
    pino({ level: process.env.LABX_TEST_LOG ?? "silent" }),
    systemClock(),
  );
  await ui.start();
  return ui;
}
