// The console end to end, in Debian's headless chromium driven by playwright-core, against the
// real ricochet binary that crates/server/tests/console.rs started (with a loopback receiver).
// Exits non-zero on the first failed expectation.

import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env("RICOCHET_BASE");
const receiver = env("RECEIVER_URL");
const clientId = env("CLIENT_ID");
const clientSecret = env("CLIENT_SECRET");
const adminKey = env("ADMIN_KEY");
const shots = env("SCREENSHOT_DIR");
const executablePath = env("CHROMIUM");
mkdirSync(shots, { recursive: true });
rmSync(`${shots}/failure.png`, { force: true });

const origin = new URL(base).origin;
const foreign = [];
const consoleErrors = [];
const TIMEOUT = 45_000;

const browser = await chromium.launch({ executablePath, headless: true });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
// Anything not aimed at the server's own origin is recorded and refused.
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith(`${origin}/`) || url === origin || url.startsWith("data:")) return route.continue();
  foreign.push(url);
  return route.abort("blockedbyclient");
});
// Error toasts are the console telling the user something failed: the scenario expects none.
await context.addInitScript(() => {
  window.__errorToasts = [];
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.classList?.contains("toast") && node.classList.contains("bad")) window.__errorToasts.push(node.textContent);
      }
    }
  }).observe(document, { childList: true, subtree: true });
});
const page = await context.newPage();
const errorToasts = [];
const collectToasts = async () => errorToasts.push(...(await page.evaluate(() => window.__errorToasts.splice(0))));
page.setDefaultTimeout(TIMEOUT);
page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
page.on("console", (msg) => {
  // Chromium logs every 4xx answer as "Failed to load resource"; the console expects some
  // (a refused form, a route this server lacks), so only the console's own errors count.
  if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) consoleErrors.push(msg.text());
});

let step = "start";
const shot = (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
const heading = (text) => page.locator("h1", { hasText: text }).waitFor();

try {
  step = "sign in with the keyboard";
  await page.goto(`${base}/ui`);
  await heading("Sign in to Ricochet");
  await shot("01-sign-in");
  await page.locator("#client-id").focus();
  await page.keyboard.type(clientId);
  await page.keyboard.press("Tab");
  await page.keyboard.type(clientSecret);
  await page.keyboard.press("Enter");
  await heading("Integrations");

  step = "create the secret the guide's headers use";
  await page.getByRole("link", { name: "Secrets" }).click();
  await heading("Secrets");
  await page.fill("#secret-name", "crm_api_token");
  await page.fill("#secret-value", "first-token-value");
  await page.fill("#secret-description", "CRM bearer token");
  await page.click("#create-secret");
  await page.locator('tr.secret-row[data-secret="crm_api_token"]').waitFor();

  step = "the form shows the guide's retry schedule";
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.click("#new-integration");
  await heading("New integration");
  await page.fill("#name", "CRM-Sync-Webhook-Resilient");
  await page.selectOption("#retryPolicyType", "exponential");
  await page.fill("#maxRetries", "5");
  await page.fill("#retryDelay", "1000");
  await page.check("#jitter");
  const delays = await page.locator("#retry-preview td.delay").allTextContents();
  assert.deepEqual(delays, ["1 s", "2 s", "4 s", "8 s", "16 s"], "retry preview of the guide's policy");
  const band = await page.locator("#retry-preview tbody tr").first().locator("td").nth(2).textContent();
  assert.equal(band, "800 ms – 1.2 s", "jitter band of the first retry");

  step = "a bad URL is shown on its field";
  await page.fill("#url", "ftp://api.your-crm.com/v1/genesys-events");
  await page.click("#add-header");
  await page.locator(".header-row").nth(0).locator(".header-name").fill("Authorization");
  await page.locator(".header-row").nth(0).locator(".header-value").fill("Bearer {{secret:crm_api_token}}");
  await page.click("#add-header");
  await page.locator(".header-row").nth(1).locator(".header-name").fill("X-Genesys-Event-Id");
  await page.locator(".header-row").nth(1).locator(".header-value").fill("{{eventId}}");
  await page.click("#save-integration");
  await page.locator("#url[aria-invalid=true]").waitFor();
  const urlError = await page.locator("#url + .field-error").textContent();
  assert.match(urlError, /http/i, "the URL's error says what is allowed");
  await shot("02-integration-form-error");

  step = "create the guide's integration";
  await page.fill("#url", `${receiver}/crm`);
  await page.click("#save-integration");
  await heading("CRM-Sync-Webhook-Resilient");
  await page.fill("#binding-events", "routing.queue.member.update");
  await page.getByRole("button", { name: "Bind", exact: true }).click();
  await page.locator("#bindings code", { hasText: "routing.queue.member.update" }).waitFor();
  const integrationUrl = page.url();

  step = "publish an event to a receiver that fails twice";
  await page.getByRole("link", { name: "Events" }).click();
  await heading("Events");
  await page.fill("#event-id", "evt-flaky-1");
  await page.click("#publish-event");
  await page.locator("#publish-result a.published-delivery").waitFor();
  await shot("03-events");

  step = "the three attempts appear in the logs";
  await page.goto(integrationUrl);
  await heading("CRM-Sync-Webhook-Resilient");
  await page.waitForFunction(() => document.querySelectorAll("#log-rows tr.log-row").length === 3, null, { timeout: TIMEOUT });
  const statuses = await page.locator("#log-rows tr.log-row").evaluateAll((rows) => rows.map((r) => r.dataset.status));
  assert.deepEqual(statuses, ["200", "503", "503"], "newest first");
  await shot("04-integration");

  step = "the logs update while new attempts arrive";
  // Published by the test itself (not the console) while the page is open.
  const token = await (await fetch(`${base}/oauth/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret }),
  })).json();
  const published = await fetch(`${base}/api/v2/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token.access_token}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "routing.queue.member.update", id: "evt-live-2", data: {} }),
  });
  assert.equal(published.status, 202);
  await page.locator("#log-rows tr.log-row code", { hasText: "evt-live-2" }).first().waitFor();

  step = "filter the logs by 503 and event id";
  await page.uncheck("#log-live");
  await page.fill("#log-status-code", "503");
  await page.fill("#log-event-id", "evt-flaky-1");
  await page.click("#apply-log-filter");
  await page.waitForFunction(() => [...document.querySelectorAll("#log-rows tr.log-row")].every((r) => r.dataset.status === "503")
    && document.querySelectorAll("#log-rows tr.log-row").length === 2);

  step = "open the delivery and see its timeline";
  await page.locator("#log-rows a.delivery-link").first().click();
  await heading("Delivery");
  await page.locator("#timeline li[data-attempt]").nth(2).waitFor();
  assert.equal(await page.locator("#delivery-status").textContent(), "succeeded");
  assert.equal(await page.locator("#timeline li[data-attempt]").count(), 3);
  const second = await page.locator('#timeline li[data-attempt="2"]').textContent();
  assert.match(second, /the policy planned 1 s \(800 ms–1.2 s\)/, "the retry is shown against the policy");
  await shot("05-delivery");

  step = "create an integration whose receiver refuses once";
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.click("#new-integration");
  await page.fill("#name", "Orders-Dead-End");
  await page.fill("#url", `${receiver}/dead`);
  await page.click("#save-integration");
  await heading("Orders-Dead-End");
  await page.fill("#binding-events", "order.created");
  await page.getByRole("button", { name: "Bind", exact: true }).click();
  await page.locator("#bindings code", { hasText: "order.created" }).waitFor();

  step = "cause a dead letter";
  await page.getByRole("link", { name: "Events" }).click();
  await page.fill("#event-type", "order.created");
  await page.fill("#event-id", "evt-dead-1");
  await page.click("#publish-event");
  await page.locator("#publish-result a.published-delivery").waitFor();
  await page.getByRole("link", { name: "Dead letters" }).click();
  await heading("Dead letters");
  const row = page.locator("#dl-rows tr.dl-row");
  const deadline = Date.now() + TIMEOUT;
  while ((await row.count()) === 0) {
    assert.ok(Date.now() < deadline, "no dead letter appeared");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForTimeout(250);
  }
  assert.match(await row.first().textContent(), /non_retryable_status:400/);
  await shot("06-dead-letters");

  step = "replay it from the console and see it delivered";
  const delivery = await row.first().getAttribute("data-delivery");
  await row.first().locator("button.replay-one").click();
  await page.locator("#dl-rows").getByText("No dead letters match.").waitFor();
  await page.goto(`${base}/ui/#/deliveries/${delivery}`);
  await page.waitForFunction(() => document.querySelector("#delivery-status")?.textContent === "succeeded", null, { timeout: TIMEOUT });
  assert.equal(await page.locator("#timeline li[data-attempt]").count(), 2);

  step = "rotate a secret, after seeing who uses it";
  await page.getByRole("link", { name: "Secrets" }).click();
  const secretRow = page.locator('tr.secret-row[data-secret="crm_api_token"]');
  await secretRow.getByRole("button", { name: "Delete crm_api_token" }).click();
  await page.locator("#confirm-body", { hasText: "CRM-Sync-Webhook-Resilient" }).waitFor();
  await page.getByRole("button", { name: "Cancel" }).click();
  await secretRow.getByRole("button", { name: "Rotate crm_api_token" }).click();
  await page.keyboard.type("second-token-value");
  await page.keyboard.press("Enter");
  await page.locator('tr.secret-row[data-secret="crm_api_token"] .secret-version', { hasText: "2" }).waitFor();
  await shot("07-secrets");

  step = "edit, disable and delete an integration";
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.locator('tr[data-integration="Orders-Dead-End"] a').click();
  await heading("Orders-Dead-End");
  await page.click("#edit-integration");
  await heading("Edit Orders-Dead-End");
  assert.equal(await page.inputValue("#url"), `${receiver}/dead`, "the form holds the saved settings");
  await page.fill("#requestTimeout", "5000");
  await page.click("#save-integration");
  await page.locator("dl.settings dd", { hasText: "5 s" }).waitFor();
  await page.click("#toggle-enabled");
  await page.locator("h1 .badge", { hasText: "disabled" }).waitFor();
  await page.click("#delete-integration");
  await page.getByRole("button", { name: "Delete", exact: true }).last().click();
  await heading("Integrations");
  await page.locator('tr[data-integration="CRM-Sync-Webhook-Resilient"]').waitFor();
  assert.equal(await page.locator('tr[data-integration="Orders-Dead-End"]').count(), 0, "deleted");

  step = "readable at phone width";
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.locator('tr[data-integration="CRM-Sync-Webhook-Resilient"]').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at phone width`);
  await shot("08-integrations-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
  await collectToasts();
  await page.reload();
  await heading("Sign in to Ricochet"); // the token lived in memory only

  step = "the operator signs in with the admin key";
  await page.fill("#admin-key", adminKey);
  await page.getByRole("button", { name: "Sign in as operator" }).click();
  await heading("Operator");
  await page.locator("#tenant-rows tr.tenant-row").first().waitFor();
  await shot("09-operator");

  step = "sign out";
  await page.getByRole("button", { name: "Sign out" }).click();
  await heading("Sign in to Ricochet");
  await page.goto(`${base}/ui/#/operator`);
  await heading("Sign in to Ricochet");

  step = "no request left the server, no console error";
  await collectToasts();
  assert.deepEqual(errorToasts, [], "error messages the console showed");
  assert.deepEqual(foreign, [], "requests to other addresses");
  assert.deepEqual(consoleErrors, [], "console errors");
  console.log(`ok: console scenario passed in chromium ${browser.version()}`);
} catch (e) {
  console.error(`FAILED at step "${step}": ${e.stack || e}`);
  await shot("failure").catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
