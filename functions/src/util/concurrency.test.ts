import assert from "node:assert/strict";
import { test } from "node:test";
import { mapWithConcurrency } from "./concurrency.js";

test("mapWithConcurrency keeps order and never exceeds the limit", async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapWithConcurrency([...Array(50).keys()], 7, async (n) => {
    peak = Math.max(peak, ++inFlight);
    await new Promise((r) => setTimeout(r, (n * 7) % 5));
    inFlight--;
    return n * 2;
  });
  assert.deepEqual(
    out,
    [...Array(50).keys()].map((n) => n * 2),
  );
  assert.equal(peak, 7);
  assert.deepEqual(await mapWithConcurrency([], 4, async () => 1), []);
});
