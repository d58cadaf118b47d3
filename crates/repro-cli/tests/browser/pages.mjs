// The service's pages in a real browser: Debian's chromium, headless, driven by puppeteer-core
// (.ci/tools/package-lock.json), with JavaScript disabled in the pages (they must work without
// it). Run by crates/repro-cli/tests/service.rs, which starts the server and checks the outcome
// through the API as well.
//
//   node pages.mjs CHROMIUM BASE_URL HASH RIGHT.tar.gz WRONG.tar.gz SCREENSHOT_DIR
//
// A user's session: the index and its form; submit the right source through the form (a real
// file upload); watch the queued page refresh itself until it is Verified; read the verdict, the
// chain commitments, the stages, the provenance, the downloads and a source file; submit a
// changed source and read the mismatch's causes and diff; queue both again as a batch and read
// its progress page; submit an unknown hash and read the error. Each step leaves a full-page screenshot. Prints one JSON line: {"jobs": {...},
// "screenshots": [...]}. Any failed expectation exits 1 with the reason and the page's text.

import { createRequire } from "node:module";
import path from "node:path";
import fs from "node:fs";

const require = createRequire(process.env.PUPPETEER_MODULES + "/");
const puppeteer = require("puppeteer-core");

const [chromium, base, hash, right, wrong, shots] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node pages.mjs CHROMIUM BASE_URL HASH RIGHT.tar.gz WRONG.tar.gz SCREENSHOT_DIR");
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });

const taken = [];
let page;

async function text() {
  return page.evaluate(() => document.body.innerText);
}

async function fail(why) {
  let body = "";
  try {
    body = await text();
    await shot("failure");
  } catch {}
  console.error(`FAIL: ${why}\n--- page ${page && page.url()} ---\n${body}`);
  process.exit(1);
}

async function shot(name) {
  const file = path.join(shots, `${String(taken.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  taken.push(file);
}

async function expectText(...wants) {
  const t = await text();
  for (const w of wants) {
    if (!t.includes(w)) await fail(`the page lacks ${JSON.stringify(w)}`);
  }
}

// Fills the index's form as a user would (typing, picking a file) and submits it.
async function submitForm(txHash, archive) {
  await page.goto(base + "/", { waitUntil: "load" });
  await page.type('input[name="hash"]', txHash);
  const input = await page.$('input[type="file"][name="archive"]');
  if (!input) await fail("no file input named archive");
  await input.uploadFile(archive);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click('button[type="submit"]')]);
}

// Waits on a job's page, which refreshes itself (meta refresh: no script), for a final status.
async function waitFinal(limitMs) {
  const t0 = Date.now();
  for (;;) {
    const badge = await page.$eval(".badge", (e) => e.textContent).catch(() => "");
    if (badge === "Verified" || badge === "Failed") return badge;
    if (Date.now() - t0 > limitMs) await fail(`not finished after ${limitMs} ms (badge ${badge})`);
    // The page's own refresh navigates; wait for it rather than reloading ourselves.
    await page.waitForNavigation({ waitUntil: "load", timeout: 15000 }).catch(() => page.reload({ waitUntil: "load" }));
  }
}

function jobId() {
  const m = /\/jobs\/(\d+)$/.exec(new URL(page.url()).pathname);
  return m ? Number(m[1]) : null;
}

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  page = await browser.newPage();
  await page.setJavaScriptEnabled(false);
  await page.setViewport({ width: 1280, height: 900 });
  page.setDefaultTimeout(60000);

  // The index: the form and the (empty) list.
  await page.goto(base + "/", { waitUntil: "load" });
  await expectText("Verifications", "Submit", "Recent verifications");
  await shot("index-empty");

  // The right source through the form.
  await submitForm(hash, right);
  const good = jobId();
  if (good === null) await fail("the form did not lead to a job's page");
  await shot("job-queued");
  const goodStatus = await waitFinal(20 * 60 * 1000);
  if (goodStatus !== "Verified") await fail(`the right source ended ${goodStatus}`);
  await expectText(
    hash,
    "Chain commitments checked",
    "Stages",
    "Rebuild of multi_ep",
    "rebuild-vs-upload",
    "replay-upload-vs-stored",
    "replay-rebuild-vs-stored",
    "Provenance of the rebuild",
    "offline bundle (tar.gz)",
    "source archive (tar.gz)",
    "verify report (JSON)",
    "multi_ep/src/lib.rs",
  );
  await shot("job-verified");

  // Every download link is served.
  const links = await page.$$eval("main a[href^='/api/v1/']", (as) => as.map((a) => a.getAttribute("href")));
  if (links.length < 5) await fail(`only ${links.length} download links`);
  for (const href of links) {
    const r = await fetch(base + href);
    if (r.status !== 200) await fail(`${href} answered ${r.status}`);
  }

  // The source browser: click the contract's source.
  await Promise.all([
    page.waitForNavigation({ waitUntil: "load" }),
    page.click("a[href$='/source/multi_ep/src/lib.rs']"),
  ]);
  await expectText("multi_ep/src/lib.rs", "Back to verification", "0x5a5a");
  await shot("source-file");

  // A changed source: Failed, with the causes and the diff.
  await submitForm(hash, wrong);
  const bad = jobId();
  const badStatus = await waitFinal(20 * 60 * 1000);
  if (badStatus !== "Failed") await fail(`the changed source ended ${badStatus}`);
  await expectText("BytecodeMismatch", "Probable causes", "Evidence", "functions with different instructions", "Diff", "functions differ");
  await shot("job-mismatch");

  // The index lists both.
  await page.goto(base + "/", { waitUntil: "load" });
  const rows = await page.$$eval("main table tr td:first-child a", (as) => as.map((a) => a.textContent));
  if (!rows.includes(String(good)) || !rows.includes(String(bad))) await fail(`the list shows ${rows}`);
  await shot("index-two");

  // A batch of the same two (transaction, source) pairs, queued through the API: the jobs are
  // shared, so the batch is finished at once; its page shows the counts and links each job.
  const b64 = (f) => fs.readFileSync(f).toString("base64");
  const queued = await fetch(base + "/api/v1/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "browser", jobs: [{ hash, archive: b64(right) }, { hash, archive: b64(wrong) }] }),
  });
  if (queued.status !== 202) await fail(`the batch was answered ${queued.status}: ${await queued.text()}`);
  const batch = (await queued.json()).id;
  await page.goto(`${base}/batches/${batch}`, { waitUntil: "load" });
  await expectText(`Batch ${batch} · browser`, "2 of 2 finished", "Verified", "Failed", "BytecodeMismatch");
  const bar = await page.$eval("progress", (p) => [p.value, p.max]);
  if (bar[0] !== 2 || bar[1] !== 2) await fail(`the progress bar is at ${bar}`);
  if (await page.$('meta[http-equiv="refresh"]')) await fail("a finished batch still refreshes itself");
  const linked = await page.$$eval("main table tr td:nth-child(2) a", (as) => as.map((a) => a.textContent));
  if (linked.join() !== `${good},${bad}`) await fail(`the batch lists jobs ${linked}`);
  await shot("batch");
  await Promise.all([page.waitForNavigation(), page.click(`a[href="/jobs/${bad}"]`)]);
  await expectText("BytecodeMismatch");

  // An unknown transaction through the form: an error page that names it.
  await submitForm("ab".repeat(32), right);
  await expectText("ContractNotFound", "knows no deploy or transaction");
  await shot("error-unknown-hash");

  console.log(JSON.stringify({ jobs: { verified: good, mismatch: bad }, batch, screenshots: taken }));
} finally {
  await browser.close();
}
