// Drives Debian's headless Chromium through the honeyward console for
// tests/console_in_a_browser.rs:
//   node console.mjs BASE_URL INVITE_URL ARTIFACT_DIR TOKEN_LABEL
// Signs up with a virtual WebAuthn authenticator (DevTools protocol), signs out and in
// again with the passkey, opens the incidents page and an incident, creates a token and
// downloads its file. Prints one JSON line with what it saw; exits 1 on any failure,
// console error, page error or dialog (a dialog would mean attacker script ran).
import { chromium } from "playwright-core";
import path from "node:path";

const [base, invite, artifacts, tokenLabel] = process.argv.slice(2);
const problems = [];
const seen = {};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", async (d) => { problems.push(`dialog opened (attacker script ran?): ${d.message()}`); await d.dismiss(); });

  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });

  // Sign up with the one-time link.
  await page.goto(invite);
  await page.click("#passkey-enrol");
  await page.waitForURL(`${base}/incidents`, { timeout: 20000 });
  await page.screenshot({ path: path.join(artifacts, "1-incidents-after-sign-up.png"), fullPage: true });

  // The link works once.
  const again = await context.newPage();
  const reused = await again.goto(invite);
  seen.invite_reuse_status = reused.status();
  await again.close();

  // Sign out, then in with the passkey.
  await page.click("header button[type=submit]");
  await page.waitForURL(`${base}/login`);
  await page.click("#passkey-sign-in");
  await page.waitForURL(`${base}/incidents`, { timeout: 20000 });
  seen.incidents_text = await page.locator("main").innerText();
  seen.incident_rows = await page.locator("tbody tr").count();
  await page.screenshot({ path: path.join(artifacts, "2-incidents.png"), fullPage: true });

  // Every incident page: no element an attacker string could have made.
  const links = await page.locator("a", { hasText: "Open" }).evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  seen.incident_pages = [];
  for (const href of links) {
    await page.goto(base + href);
    const text = await page.locator("main").innerText();
    seen.incident_pages.push({ href, text });
    const injected = await page.locator("main img, main script, main iframe, main [onerror]").count();
    if (injected > 0) problems.push(`${href}: ${injected} element(s) made from attacker text`);
  }
  await page.goto(base + links[0]);
  await page.screenshot({ path: path.join(artifacts, "3-incident.png"), fullPage: true });

  // Create a token and download its file.
  await page.goto(`${base}/tokens`);
  await page.selectOption("select[name=kind]", "aws-key");
  await page.fill("input[name=label]", tokenLabel);
  await page.fill("input[name=endpoint]", "http://10.20.30.40:8080");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("form.create button[type=submit]")]);
  const saved = path.join(artifacts, download.suggestedFilename());
  await download.saveAs(saved);
  seen.download = saved;
  await page.goto(`${base}/tokens`);
  // Record where it was planted.
  const row = page.locator("tr", { hasText: tokenLabel });
  await row.locator("summary").click();
  await row.locator("input[name=host]").fill("finance-fs01");
  await row.locator("input[name=path]").fill("/srv/share/finance/.aws/credentials");
  await row.locator("form.plant button[type=submit]").click();
  await page.waitForURL(`${base}/tokens`);
  seen.tokens_text = await page.locator("main").innerText();
  await page.screenshot({ path: path.join(artifacts, "4-tokens.png"), fullPage: true });

  for (const p of ["/health", "/sinks"]) {
    await page.goto(base + p);
    await page.screenshot({ path: path.join(artifacts, `5${p.replace("/", "-")}.png`), fullPage: true });
  }
} catch (e) {
  problems.push(`driver: ${e.stack || e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok: problems.length === 0, problems, ...seen }));
process.exit(problems.length === 0 ? 0 : 1);
