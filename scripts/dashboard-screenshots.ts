// Screenshots of the dashboard for docs/ and the README, of real nodes: an aedes broker, a chronyd
// pair on loopback, three labx nodes recording their synthetic cameras, started from the page itself.
// Rerun with `npm run screenshots` (needs Chromium at /usr/bin/chromium, ffmpeg and chrony).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { startAedes } from "../test/helpers/aedes.js";
import { launchChromium, startDashboardFor } from "../test/helpers/browser.js";
import { startChronyClient, startChronyServer } from "../test/helpers/chrony.js";
import { ROOT, startNode, type RunningNode } from "../test/helpers/node.js";

const OUT = path.join(ROOT, "docs", "img");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const broker = await startAedes();
  const server = await startChronyServer();
  // One chronyd client per node, as on three Pis: each its own offset from the lab's server.
  const clients = await Promise.all([0, 1, 2].map(() => startChronyClient(server.port)));
  const nodes: RunningNode[] = [];
  const browser = await launchChromium();
  try {
    const fleet = [
      ["CAM01", ["bench"]],
      ["CAM02", ["bench"]],
      ["CAM03", ["door"]],
    ] as const;
    for (const [i, [id, groups]] of fleet.entries())
      nodes.push(
        await startNode({
          broker_url: broker.url,
          sbc_id: id,
          groups: [...groups],
          sync_interval: 2,
          chrony_host: "127.0.0.1",
          chrony_port: clients[i]!.cmdPort,
          batch_duration: 5,
          preview_interval: 2,
        }),
      );
    const ui = await startDashboardFor({ broker_url: broker.url });
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      await page.goto(ui.url);
      await page.locator(".card").nth(2).waitFor();
      await page.selectOption("#target", "all");
      await page.fill('input[name="session"]', "demo");
      await page.fill('input[name="duration"]', "300");
      await page.fill('input[name="start_in_s"]', "3");
      await page.click("#start");
      await page.locator("#result table").waitFor({ timeout: 20_000 });
      await sleep(20_000);
      await page.screenshot({ path: path.join(OUT, "dashboard-desktop.png"), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await sleep(1500);
      await page.screenshot({ path: path.join(OUT, "dashboard-phone.png") });
      console.log(`wrote ${path.join(OUT, "dashboard-desktop.png")} and dashboard-phone.png`);
    } finally {
      await ui.stop();
    }
  } finally {
    await browser.close();
    for (const n of nodes) await n.stop();
    for (const c of clients) await c.stop();
    await server.stop();
    await broker.stop();
  }
}

await main();
