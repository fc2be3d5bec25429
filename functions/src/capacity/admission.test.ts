import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError } from "../errors.js";
import { imageJobBytes, MemoryGate } from "./admission.js";

const MB = 1_000_000;
const gate = (budgetMb = 100, maxWaitMs = 200) => new MemoryGate({ budgetBytes: budgetMb * MB, maxWaitMs });
const tick = () => new Promise((r) => setImmediate(r));

async function refusalOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a refusal");
}

test("requests that fit are admitted at once and the budget is counted", async () => {
  const g = gate();
  const a = await g.acquire(40 * MB);
  const b = await g.acquire(60 * MB);
  assert.equal(g.inUse, 100 * MB);
  a();
  b();
  assert.equal(g.inUse, 0);
});

test("a full budget makes a request wait, and a release admits it", async () => {
  const g = gate();
  const first = await g.acquire(80 * MB);
  let admitted = false;
  const second = g.acquire(30 * MB).then((release) => ((admitted = true), release));
  await tick();
  assert.equal(admitted, false);
  assert.equal(g.waiting, 1);
  first();
  (await second)();
  assert.equal(admitted, true);
  assert.equal(g.inUse, 0);
});

test("first come first served: a small request does not overtake a big one waiting at the head", async () => {
  const g = gate();
  const held = await g.acquire(50 * MB);
  const order: string[] = [];
  const big = g.acquire(90 * MB).then((r) => (order.push("big"), r));
  const small = g.acquire(20 * MB).then((r) => (order.push("small"), r)); // fits now, but waits its turn
  await tick();
  assert.deepEqual(order, []);
  held();
  const releaseBig = await big;
  await tick();
  assert.deepEqual(order, ["big"]);
  releaseBig();
  (await small)();
  assert.deepEqual(order, ["big", "small"]);
});

test("a wait that runs out is refused: unavailable, instance-busy, retryAfterSeconds; the queue is left", async () => {
  const g = gate(100, 50);
  const held = await g.acquire(100 * MB);
  const started = Date.now();
  const refusal = await refusalOf(g.acquire(10 * MB));
  assert.ok(Date.now() - started >= 45, "waited about maxWaitMs first");
  assert.equal(refusal.code, "unavailable");
  assert.equal(refusal.reason, "instance-busy");
  assert.ok(Number.isInteger(refusal.details?.retryAfterSeconds) && refusal.details!.retryAfterSeconds! >= 1);
  assert.match(refusal.message, /try again in \d+ seconds/);
  assert.equal(g.waiting, 0);
  held();
  assert.equal(g.inUse, 0);
});

test("with no wait allowed, a full budget refuses at once", async () => {
  const g = gate(100, 0);
  const held = await g.acquire(100 * MB);
  assert.equal((await refusalOf(g.acquire(1))).reason, "instance-busy");
  held();
});

test("a request larger than the whole budget runs alone when the instance is idle", async () => {
  const g = gate(100);
  const alone = await g.acquire(500 * MB); // admitted: nothing else is running
  assert.equal(g.inUse, 100 * MB, "charged the whole budget");
  const refusal = await refusalOf(g.acquire(1 * MB)); // nothing fits beside it
  assert.equal(refusal.reason, "instance-busy");
  alone();
  const small = await g.acquire(1 * MB);
  const oversize = g.acquire(500 * MB); // waits until the small one is done
  await tick();
  assert.equal(g.waiting, 1);
  small();
  (await oversize)();
  assert.equal(g.inUse, 0);
});

test("the refused head no longer blocks the requests behind it", async () => {
  const g = gate(100, 30);
  const held = await g.acquire(60 * MB);
  const big = refusalOf(g.acquire(80 * MB)); // times out first
  await tick();
  const small = g.acquire(30 * MB, AbortSignal.timeout(5_000)); // behind it; fits once the head goes
  assert.equal((await big).reason, "instance-busy");
  (await small)();
  held();
  assert.equal(g.inUse, 0);
});

test("a waiter whose client goes away leaves the queue", async () => {
  const g = gate(100, 5_000);
  const held = await g.acquire(100 * MB);
  const gone = new AbortController();
  const waiting = refusalOf(g.acquire(10 * MB, gone.signal));
  await tick();
  assert.equal(g.waiting, 1);
  gone.abort();
  assert.equal((await waiting).reason, "instance-busy");
  assert.equal(g.waiting, 0);
  held();
});

test("the release is idempotent and runs on a throw through try/finally", async () => {
  const g = gate();
  const work = async () => {
    const release = await g.acquire(70 * MB);
    try {
      throw new Error("provider exploded");
    } finally {
      release();
      release(); // a second call changes nothing
    }
  };
  await assert.rejects(work(), /provider exploded/);
  assert.equal(g.inUse, 0);
  (await g.acquire(100 * MB))();
});

test("retryAfterSeconds follows how long grants are held, between 1 and 30 seconds", async () => {
  let now = 0;
  const g = new MemoryGate({ budgetBytes: 100 * MB, maxWaitMs: 0 }, () => now);
  for (let i = 0; i < 20; i++) {
    const release = await g.acquire(100 * MB);
    now += 12_000;
    release();
  }
  assert.equal(g.retryAfterSeconds(), 12);
  for (let i = 0; i < 40; i++) (await g.acquire(1))(); // instant holds
  assert.equal(g.retryAfterSeconds(), 1);
});

test("an image job is charged 1.5 RGB rasters + 2.5x the file + an 8 MB floor", () => {
  assert.equal(imageJobBytes(14_600_000, { width: 5760, height: 3840 }), 1.5 * 5760 * 3840 * 3 + 2.5 * 14_600_000 + 8_000_000);
});

test("a local effect that keeps the picture whole as raw pixels is charged for them", async () => {
  const { createJobBytes } = await import("./admission.js");
  const { makeFaceImage } = await import("../../test/fixtures/images.js");
  const photo = await makeFaceImage({ width: 640, height: 480 });
  const pixels = 640 * 480;
  const image = { base64: photo.toString("base64"), mimeType: "image/jpeg" };
  const charged = (request: object) => createJobBytes("held-pixels", { image, ...request });
  const streamed = imageJobBytes(photo.length, { width: 640, height: 480 });

  assert.equal(await charged({ feature: "style", style: "vintage", provider: "local" }), streamed, "one streamed pass: the plain charge");
  // pop-art's posterize maps the whole raster in JS: 3 bytes a pixel.
  assert.equal(await charged({ feature: "style", style: "pop-art", provider: "local" }), streamed + 3 * pixels);
  assert.equal(await charged({ feature: "edit", prompt: "make it pop art", provider: "local" }), streamed + 3 * pixels);
  // noir measures luma for its normalise (1 byte a pixel); enhance does so and keeps the picture between passes.
  assert.equal(await charged({ feature: "style", style: "noir", provider: "local" }), streamed + pixels);
  assert.equal(await charged({ feature: "enhance", provider: "local" }), streamed + 4 * pixels);
  // cutout's RGBA PNG result, held as bytes and as base64, and its full-size alpha.
  assert.equal(await charged({ feature: "cutout", provider: "local" }), streamed + 12 * pixels);
  // A named third party never falls back to local (default routing: test/integration/admission.test.ts).
  assert.equal(await charged({ feature: "enhance", provider: "openai" }), streamed);
  assert.equal(await charged({ feature: "style", style: "no-such-style", provider: "local" }), streamed, "refused before decoding");
});
