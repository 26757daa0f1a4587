// Drives Debian's headless Chromium through the honeyward console for
// tests/console_in_a_browser.rs:
//   node console.mjs BASE_URL INVITE_URL ARTIFACT_DIR TOKEN_LABEL
// Signs up with a virtual WebAuthn authenticator (DevTools protocol), signs out and in
// again with the passkey, opens the incidents page and an incident, creates a token and
// downloads its file. Every page is audited with axe-core (WCAG 2 A and AA rules).
// Prints one JSON line with what it saw; exits 1 on any failure, console error, page
// error, dialog (a dialog would mean attacker script ran), or serious or critical axe
// violation.
import { chromium } from "playwright-core";
import path from "node:path";
import fs from "node:fs";
import { createRequire } from "node:module";

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const [base, invite, artifacts, tokenLabel] = process.argv.slice(2);
const problems = [];
const seen = { audited: [], links_checked: 0 };

// axe-core, evaluated over the DevTools protocol (the console's CSP allows no inline
// script, and none is added to the page): serious and critical violations fail the run.
async function audit(page, name) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  for (const v of violations) {
    if (v.impact === "serious" || v.impact === "critical") problems.push(`axe ${name}: ${v.impact} ${v.id} at ${v.nodes.join(", ")}`);
  }
  seen.audited.push({ page: name, violations: violations.length });
  // Every link on the page answers 200 (fetched with the page's session, not followed).
  const hrefs = await page.evaluate(() => [...new Set([...document.querySelectorAll("a[href]")].map((a) => a.href))]);
  for (const href of hrefs) {
    if (!href.startsWith(new URL(page.url()).origin)) continue;
    const status = (await page.request.get(href, { maxRedirects: 0 })).status();
    seen.links_checked += 1;
    if (status !== 200) problems.push(`link ${href} on ${name} answered ${status}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  // The one 400 the run asks for (a refused token form) is logged by Chromium as a
  // failed load; it is expected there, and only there.
  let expecting400 = false;
  page.on("console", (m) => {
    if (expecting400 && m.text().includes("status of 400")) return;
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", async (d) => { problems.push(`dialog opened (attacker script ran?): ${d.message()}`); await d.dismiss(); });

  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });

  // Sign up with the one-time link.
  await page.goto(invite);
  await audit(page, "enrol");
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
  await audit(page, "login");
  await page.click("#passkey-sign-in");
  await page.waitForURL(`${base}/incidents`, { timeout: 20000 });
  seen.incidents_text = await page.locator("main").innerText();
  seen.local_times = await page.locator("time[data-local=yes]").count();
  seen.incident_rows = await page.locator("tbody tr").count();
  await page.screenshot({ path: path.join(artifacts, "2-incidents.png"), fullPage: true });
  await audit(page, "incidents");
  await page.goto(`${base}/`);
  seen.overview_text = await page.locator("main").innerText();
  await audit(page, "overview");
  await page.goto(`${base}/incidents`);

  // Every incident page: no element an attacker string could have made.
  const links = await page.locator("td.title a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  seen.incident_pages = [];
  for (const href of links) {
    await page.goto(base + href);
    const text = await page.locator("main").innerText();
    seen.incident_pages.push({ href, text });
    const injected = await page.locator("main img, main script, main iframe, main [onerror]").count();
    if (injected > 0) problems.push(`${href}: ${injected} element(s) made from attacker text`);
    await audit(page, href);
  }
  await page.goto(base + links[0]);
  await page.screenshot({ path: path.join(artifacts, "3-incident.png"), fullPage: true });
  // The recorded session plays back: cleared, then written frame by frame to the end.
  const replay = page.locator("pre.replay").first();
  if ((await replay.count()) > 0) {
    await page.selectOption(".player .speed", "64");
    await page.click(".player .play");
    await page.waitForSelector("pre.replay[data-played=yes]", { timeout: 20000 });
    seen.replayed = await replay.innerText();
  }

  // Create a token and download its file.
  await page.goto(`${base}/tokens`);
  await page.selectOption("select[name=kind]", "aws-key");
  seen.aws_templates = await page.$$eval("select[name=template] option:not([hidden])", (os) => os.map((o) => o.value));
  await page.fill("input[name=label]", tokenLabel);
  await page.fill("input[name=endpoint]", "http://10.20.30.40:8080");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("form.create button[type=submit]")]);
  const saved = path.join(artifacts, download.suggestedFilename());
  await download.saveAs(saved);
  seen.download = saved;
  // Then the token's page says what was made and where it goes.
  await page.waitForURL(/\/tokens\/tok-[^?]+\?created=/, { timeout: 10000 });
  seen.created_text = await page.locator("main [role=status]").innerText();
  await audit(page, "token, created");
  await page.goto(`${base}/tokens`);
  // Its own page: record where it was planted.
  const tokenPage = await page.locator("tr", { hasText: tokenLabel }).locator("td a").first().getAttribute("href");
  await page.goto(base + tokenPage);
  await page.locator("summary").click();
  await page.fill("form.plant input[name=host]", "finance-fs01");
  await page.fill("form.plant input[name=path]", "/srv/share/finance/.aws/credentials");
  await page.click("form.plant button[type=submit]");
  await page.waitForURL(base + tokenPage);
  await audit(page, "token");
  // Revoked only with the box ticked.
  await page.check("input[name=confirm]");
  await page.click("#revoke ~ form button[type=submit], form[action$='/revoke'] button[type=submit]");
  await page.waitForURL(base + tokenPage);
  seen.token_text = await page.locator("main").innerText();
  await page.goto(`${base}/tokens`);
  seen.tokens_text = await page.locator("main").innerText();
  await page.screenshot({ path: path.join(artifacts, "4-tokens.png"), fullPage: true });
  await audit(page, "tokens");

  // A template that cannot hold the kind is refused on the form (400), not a bare error.
  await page.selectOption("select[name=kind]", "aws-key");
  await page.selectOption("select[name=template]", "ssh_config");
  await page.fill("input[name=label]", "mismatch (console test)");
  expecting400 = true;
  const [refused] = await Promise.all([page.waitForNavigation(), page.click("form.create button[type=submit]")]);
  expecting400 = false;
  seen.mismatch_status = refused ? refused.status() : 0;
  seen.mismatch_alert = await page.locator("main [role=alert]").innerText();
  await audit(page, "tokens, refused");

  for (const p of ["/health", "/sinks"]) {
    await page.goto(base + p);
    await page.screenshot({ path: path.join(artifacts, `5${p.replace("/", "-")}.png`), fullPage: true });
    await audit(page, p);
  }
  // A decoy's own page, reached from the decoys list.
  await page.goto(`${base}/health`);
  await page.click("a[href='/decoys/portal']");
  seen.decoy_text = await page.locator("main").innerText();
  await audit(page, "decoy");
} catch (e) {
  problems.push(`driver: ${e.stack || e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok: problems.length === 0, problems, ...seen }));
process.exit(problems.length === 0 ? 0 : 1);
