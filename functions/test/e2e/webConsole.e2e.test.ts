/**
 * The demo web console in a real browser: `npm start`'s script on free ports, Debian's Chromium
 * headless driven by playwright-core (never a downloaded browser). A newcomer's whole visit: sign in
 * anonymously, send the generated sample face with consent to an image feature and to `video` (by
 * uploadImage), watch progress, see each result and its privacy receipt, opt out, export and delete
 * (data, then the account). Any console error, page error or request leaving 127.0.0.1 fails it.
 * Screenshots of each step go to functions/test-artifacts/web/.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { deleteApp, getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { makeFaceImage } from "../fixtures/images.js";
import { startNpmStart, type RunningStart } from "../support/npmStart.js";
import { assertJobKeepsStatusOnly } from "../support/privacy.js";

/** The few DOM members the test reads in the page (its tsconfig has no DOM library). */
interface ImageElement {
  naturalWidth: number;
  naturalHeight: number;
}
interface VideoElement {
  readyState: number;
  duration: number;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  currentSrc: string;
  addEventListener(type: string, listener: (event: unknown) => void, options: { once: boolean }): void;
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = path.resolve(__dirname, "../../test-artifacts/web");
/** machines/node.md: without the background-networking flags Chromium calls out at every start. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Locally a machine without Chromium skips (and says why); CI installs it, so there it must run.
const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;
if (missing && process.env.CI) throw new Error(`web console test cannot run in CI: ${missing}`);
if (missing) console.log(`web console browser test skipped: ${missing}`);

describe("the web console in Chromium", { skip: missing, timeout: 240_000 }, () => {
  let start: RunningStart;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  const problems: string[] = [];

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    start = await startNpmStart({ LOCAL_QUIET: "1" });
    assert.match(start.webUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/, "npm start prints the web console's URL");
    initializeApp({ projectId: start.env.GCLOUD_PROJECT, storageBucket: `${start.env.GCLOUD_PROJECT}.appspot.com` });
    profileDir = mkdtempSync(path.join(tmpdir(), "web-console-profile-"));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 412, height: 915 }, // a phone
      deviceScaleFactor: 1,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("request", (request) => {
      const { protocol, hostname } = new URL(request.url());
      if (!["blob:", "data:"].includes(protocol) && hostname !== "127.0.0.1") problems.push(`request left this machine: ${request.url()}`);
    });
    console.log(`web console screenshots: ${SCREENSHOTS}`);
  });

  after(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await Promise.all(getApps().map((a) => deleteApp(a)));
    await start?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const text = (selector: string) => page.locator(selector).innerText();
  /** The newest receipt's job id (each receipt is `li#receipt-<jobId>`). */
  const newestJobId = async () => (await page.locator("li.receipt").first().getAttribute("id"))!.replace(/^receipt-/, "");
  const assertNoProblems = () => assert.deepEqual(problems, [], "the page logged errors or called out");
  /** `npm run audit:privacy` against this stack, as an operator runs it with the variables npm start printed. */
  const auditThisStack = async (when: string) => {
    const repo = path.resolve(__dirname, "../../..");
    const run = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/audit-privacy.ts"], {
      cwd: repo,
      env: { ...process.env, ...start.env },
    }).catch((failed: { stdout?: string; code?: number }) => ({ stdout: `${failed.stdout ?? ""}\n(exit ${String(failed.code)})` }));
    assert.match(run.stdout, /audit:privacy: PASSED: no violation/, `audit:privacy ${when}:\n${run.stdout}`);
  };

  test("it signs in anonymously on the Auth emulator and offers the local provider", async () => {
    await page.goto(start.webUrl);
    await page.getByText(/Signed in anonymously on the Auth emulator/).waitFor();
    assert.equal(await page.locator("#provider").inputValue(), "local", "local is the default provider");
    assert.match(await text("#emulators"), new RegExp(`Auth 127\\.0\\.0\\.1:${start.clientOptions.authPort}`));
    assert.match(await text("#provider-hint"), /Not enabled on this stack.*OpenAI GPT Image/);
    await shot("01-signed-in");
    assertNoProblems();
  });

  test("an image feature: no photo leaves without consent; with it, the result and a privacy receipt", async () => {
    await page.getByRole("button", { name: "Use a generated sample face" }).click();
    await page.locator("#photo-preview-img").waitFor();
    await page.getByLabel("Feature").selectOption("style");
    await page.getByLabel("Style preset").selectOption("sketch");

    await page.getByRole("button", { name: "Fix my photo" }).click();
    assert.match(await text("#form-error"), /tick the consent box/);
    assert.equal(await page.locator("li.receipt").count(), 0, "nothing was sent without consent");

    await page.getByLabel(/I agree to send this photo/).check();
    await page.getByRole("button", { name: "Fix my photo" }).click();
    await page.getByText(/Done: job .* succeeded/).waitFor({ timeout: 60_000 });
    const natural = await page.locator("#result-img").evaluate((img: ImageElement) => [img.naturalWidth, img.naturalHeight]);
    assert.deepEqual(natural, [512, 512], "the transformed image is shown");
    const receipt = await page.locator("li.receipt").first().innerText();
    assert.match(receipt, /style job .* succeeded/);
    assert.match(receipt, /Photo sent to\s+Photo Fixer \(on our servers\) \(local\), model local-effects-1/);
    assert.match(receipt, /Your photo\s+deleted from our side at/);
    assert.match(receipt, /returned in the answer to this page; never stored/);
    assert.match(receipt, /Job status record \(no photo\)\s+deleted by/);

    const job = await assertJobKeepsStatusOnly(await newestJobId());
    assert.equal(job.status, "succeeded");
    assert.equal(job.inputDeleted, true);
    const shownAt = await page.locator("li.receipt dd time").first().getAttribute("datetime");
    assert.equal(shownAt, job.finishedAt!.toDate().toISOString(), "the receipt shows the job's own deletion time");
    await shot("02-image-result");
    assertNoProblems();
  });

  test("video with the local provider from a chosen file, uploaded first: progress by polling, the clip, deleted on acknowledgement", async () => {
    const photo = await makeFaceImage({ width: 384, height: 384, format: "jpeg" }); // synthetic, never a real face
    await page.getByLabel("Choose a photo").setInputFiles({ name: "face.jpg", mimeType: "image/jpeg", buffer: photo });
    await page.getByText(/face\.jpg, \d+ KB \(image\/jpeg\)/).waitFor();
    await page.getByLabel("Feature").selectOption("video");
    await page.getByLabel("Prompt (optional)").fill("a gentle smile");
    await page.getByLabel(/uploaded first/).check();
    await page.getByRole("button", { name: "Fix my photo" }).click();
    await page.getByText(/Checking again every/).waitFor({ timeout: 60_000 });
    await shot("03-video-progress");
    await page.getByText(/Done: video job .* succeeded/).waitFor({ timeout: 90_000 });

    // Decoded, not only parsed: frames of the clip, the middle one shown for the screenshot.
    const clip = await page.locator("#result-video").evaluate(async (video: VideoElement) => {
      if (video.readyState < 2) await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
      video.currentTime = video.duration / 2;
      await new Promise((resolve) => video.addEventListener("seeked", resolve, { once: true }));
      return { duration: video.duration, width: video.videoWidth, height: video.videoHeight, source: video.currentSrc.slice(0, 5) };
    });
    assert.ok(clip.duration > 0.5 && clip.width > 0 && clip.height > 0, `a playable clip (${JSON.stringify(clip)})`);
    assert.equal(clip.source, "blob:", "the page plays its own copy, so the server's could be deleted");
    const receipt = await page.locator("li.receipt").first().innerText();
    assert.match(receipt, /video job .* succeeded/);
    assert.match(receipt, /Photo sent to\s+Photo Fixer \(on our servers\) \(local\)/);
    assert.match(receipt, /Result\s+kept only until you received it: deleted at .* \(ackJobResult\)/);
    const jobId = await newestJobId();
    const job = await assertJobKeepsStatusOnly(jobId);
    assert.equal(job.feature, "video");
    assert.equal(job.resultDeleted, true, "acknowledged: the held clip is deleted");
    assert.equal(await page.locator("li.receipt").count(), 2, "one receipt per job");
    await shot("04-video-result");
    assertNoProblems();
  });

  test("privacy choices: opting out is stored, and the page says what it would switch off", async () => {
    await page.getByLabel("Do not sell my personal information").check();
    await page.getByLabel(/Do not share my personal information/).check();
    await page.getByRole("button", { name: "Save my choices" }).click();
    await page.getByText(/^Saved at .*opted out of sale: yes, of sharing: yes/).waitFor();
    assert.match(await text("#analytics-status"), /would now switch its analytics off.*has none/);
    const uid = (
      await getFirestore()
        .doc(`jobs/${await newestJobId()}`)
        .get()
    ).get("uid") as string;
    const stored = (await getFirestore().doc(`privacy/${uid}`).get()).data();
    assert.equal(stored?.optOutOfSale, true);
    assert.equal(stored?.optOutOfSharing, true);
    await shot("05-choices");
    assertNoProblems();
  });

  test("npm run audit:privacy finds no violation after the image, video and choices flows", async () => {
    await auditThisStack("after the image, video and choices flows");
  });

  test("export, then delete the data, then the account", async () => {
    const uid = (
      await getFirestore()
        .doc(`jobs/${await newestJobId()}`)
        .get()
    ).get("uid") as string;
    await page.getByRole("button", { name: "Export my data" }).click();
    await page.getByText(/^Exported at .*2 job status record/).waitFor();
    await page.locator("#export-details summary").click();
    const exported = JSON.parse(await page.locator("#export-json").innerText()) as {
      uid: string;
      data: { jobs: { items: unknown[] }; privacyChoices: { items: unknown[] } };
    };
    assert.equal(exported.uid, uid);
    assert.equal(exported.data.jobs.items.length, 2);
    assert.equal(exported.data.privacyChoices.items.length, 1);
    assert.match((await page.locator("#export-download").getAttribute("href"))!, /^blob:/, "the export can be downloaded");
    await shot("06-export");

    await page.getByRole("button", { name: "Delete my data" }).click();
    await page.getByText(/^Deleted: 2 job status records, .*1 privacy choices/).waitFor();
    assert.match(await text("#choices-status"), /deleted with your data/);
    assert.equal(await page.getByLabel("Do not sell my personal information").isChecked(), false, "the page shows the defaults again");
    assert.match(await text("#account-status"), /Signed in anonymously/, "the account stays");
    assert.equal(await page.locator("li.receipt p.deleted").count(), 2, "each receipt says its status record is gone");
    assert.equal((await getFirestore().collection("jobs").where("uid", "==", uid).get()).size, 0);
    assert.equal((await getFirestore().doc(`privacy/${uid}`).get()).exists, false);

    await page.getByLabel("also delete my account").check();
    await page.getByRole("button", { name: "Delete my data" }).click();
    await page.getByText(/Your account is deleted too/).waitFor();
    await page.getByText("Signed out.").waitFor();
    assert.ok(await page.getByRole("button", { name: /Start again/ }).isVisible());
    await assert.rejects(getAuth().getUser(uid), /no user record|user-not-found/i);
    await shot("07-deleted");
    assertNoProblems();
    await auditThisStack("after export and deletion");
  });

  test("the server hands out the page's own files only, each with a policy that keeps the page on this machine", async () => {
    const home = await fetch(start.webUrl);
    assert.equal(home.status, 200);
    const csp = home.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(
      csp,
      new RegExp(`connect-src 'self' http://127\\.0\\.0\\.1:${start.clientOptions.authPort} http://127\\.0\\.0\\.1:${start.clientOptions.functionsPort} `),
    );
    const config = await (await fetch(new URL("config.js", start.webUrl))).text();
    assert.match(config, /"policyVersion": "2026-11"/);
    assert.doesNotMatch(config, /apiKey": "(?!fake-api-key)/, "no real key in the page");
    const sdk = await (await fetch(new URL("vendor/firebase-auth.js", start.webUrl))).text();
    assert.doesNotMatch(sdk, /gstatic\.com/, "the SDK imports its app module from here, not the CDN");
    for (const pathname of ["/%2e%2e/package.json", "/..%2fpackage.json", "/vendor/firebase-firestore.js", "/web/index.html", "/app.js.map"]) {
      assert.equal((await fetch(new URL(pathname, start.webUrl))).status, 404, pathname);
    }
    assert.equal((await fetch(start.webUrl, { method: "POST", body: "x" })).status, 405);
  });

  test("at desktop width the same page reads as one column", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole("button", { name: /Start again/ }).click();
    await page.getByText(/Signed in anonymously on the Auth emulator/).waitFor();
    await shot("08-desktop");
    assertNoProblems();
  });
});
