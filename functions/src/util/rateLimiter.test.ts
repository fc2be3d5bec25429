import assert from "node:assert/strict";
import { test } from "node:test";
import { LimiterBusy, RateLimiter } from "./rateLimiter.js";

/** A call that runs until the test lets it finish. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { call: () => done, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("concurrency: never more than the cap at once; waiters start first come, first served", async () => {
  const limiter = new RateLimiter({ maxConcurrent: 2 }, 5_000);
  let inFlight = 0;
  let peak = 0;
  const order: number[] = [];
  const runs = [...Array(6).keys()].map((n) =>
    limiter.run(async () => {
      order.push(n);
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5 + ((n * 3) % 4)));
      inFlight--;
      return n;
    }),
  );
  assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(limiter.inFlight, 0);
});

test("rate: at most requestsPerMinute starts in a rolling minute; a waiter starts when the oldest ages out", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
  const limiter = new RateLimiter({ requestsPerMinute: 2 }, 90_000);
  const starts: number[] = [];
  const run = () => limiter.run(async () => void starts.push(Date.now()));
  await run();
  t.mock.timers.tick(10_000);
  await run();
  const third = run();
  await settle();
  assert.equal(starts.length, 2, "the third waits: two started in the last minute");
  t.mock.timers.tick(49_999);
  await settle();
  assert.equal(starts.length, 2);
  t.mock.timers.tick(1);
  await third;
  assert.deepEqual(starts, [1_000_000, 1_010_000, 1_060_000]);
});

test("refusal: a wait known to be too long is refused at once with retryAfterMs; a concurrency wait after maxWait", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 5_000_000 });
  const byRate = new RateLimiter({ requestsPerMinute: 1 }, 1_000);
  await byRate.run(async () => undefined);
  t.mock.timers.tick(15_000);
  const refused = await byRate.run(async () => "ran").catch((e: unknown) => e);
  assert.ok(refused instanceof LimiterBusy);
  assert.equal(refused.retryAfterMs, 45_000, "when the one start of the last minute ages out");

  const byConcurrency = new RateLimiter({ maxConcurrent: 1 }, 1_000);
  const first = held();
  const running = byConcurrency.run(first.call);
  const waiting = byConcurrency.run(async () => "ran").catch((e: unknown) => e);
  await settle();
  assert.equal(byConcurrency.queued, 1);
  t.mock.timers.tick(1_000);
  const busy = await waiting;
  assert.ok(busy instanceof LimiterBusy, "refused after maxWait");
  assert.ok(busy.retryAfterMs >= 1_000);
  assert.equal(byConcurrency.queued, 0, "a refused caller leaves the queue");
  first.finish();
  await running;
  assert.equal(await byConcurrency.run(async () => "ran"), "ran");
});

test("a call that throws gives its slot back", async () => {
  const limiter = new RateLimiter({ maxConcurrent: 1 }, 1_000);
  await assert.rejects(
    limiter.run(async () => Promise.reject(new Error("provider down"))),
    /provider down/,
  );
  assert.equal(limiter.inFlight, 0);
  assert.equal(await limiter.run(async () => "next"), "next");
});

test("raised caps let waiters in at once; no caps means no waiting", async () => {
  const limiter = new RateLimiter({ maxConcurrent: 1 }, 5_000);
  const first = held();
  const running = limiter.run(first.call);
  let secondRan = false;
  const second = limiter.run(async () => void (secondRan = true));
  await settle();
  assert.equal(secondRan, false);
  limiter.setCaps({ maxConcurrent: 2 });
  await second;
  assert.equal(secondRan, true);
  first.finish();
  await running;
  limiter.setCaps({});
  const many = await Promise.all([...Array(50).keys()].map((n) => limiter.run(async () => n)));
  assert.equal(many.length, 50);
});
