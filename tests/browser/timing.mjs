// Times console pages in Debian's headless Chromium for benches/console_pages.rs:
//   node timing.mjs BASE_URL SESSION_COOKIE PATH...
// Each page is loaded 5 times with the session cookie; prints, per page, the median
// and the worst time from navigation start to the load event, in milliseconds.
import { chromium } from "playwright-core";

const [base, cookie, ...paths] = process.argv.slice(2);
const [name, value] = cookie.split("=");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addCookies([{ name, value, url: base }]);
  const page = await context.newPage();
  for (const p of paths) {
    const times = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(base + p, { waitUntil: "load" });
      times.push(await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd));
    }
    times.sort((a, b) => a - b);
    console.log(`  ${p.padEnd(60)} median ${times[2].toFixed(1).padStart(7)} ms  max ${times[4].toFixed(1).padStart(7)} ms`);
  }
} finally {
  await browser.close();
}
