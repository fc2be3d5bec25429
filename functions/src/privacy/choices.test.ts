/** Privacy choices as pure rules: GPC is an opt-out of both, wherever it comes from. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nextChoices, requestTypeOf, sameChoices, setPrivacyChoicesRequestSchema } from "./choicesSchema.js";
import { sendsGpc } from "./gpc.js";

const none = { optOutOfSale: false, optOutOfSharing: false, gpc: false };

describe("privacy choices", () => {
  test("Sec-GPC: 1 is a signal; any other value or no header is not", () => {
    assert.equal(sendsGpc({ "sec-gpc": "1" }), true);
    assert.equal(sendsGpc({ "sec-gpc": " 1 " }), true);
    assert.equal(sendsGpc({ "sec-gpc": ["0", "1"] }), true);
    for (const h of [{ "sec-gpc": "0" }, { "sec-gpc": "true" }, { "sec-gpc": "" }, {}, undefined]) assert.equal(sendsGpc(h), false, JSON.stringify(h));
  });

  test("fields not in the request keep their stored value; the first request defaults to no opt-out", () => {
    assert.deepEqual(nextChoices(undefined, { optOutOfSale: true }, false), { optOutOfSale: true, optOutOfSharing: false, gpc: false });
    assert.deepEqual(nextChoices({ ...none, optOutOfSharing: true }, { optOutOfSale: true }, false), { optOutOfSale: true, optOutOfSharing: true, gpc: false });
    assert.deepEqual(nextChoices({ optOutOfSale: true, optOutOfSharing: true, gpc: false }, { optOutOfSale: false }, false), {
      optOutOfSale: false,
      optOutOfSharing: true,
      gpc: false,
    });
  });

  test("GPC (header or flag) opts out of both, even against the same request's wish", () => {
    const both = { optOutOfSale: true, optOutOfSharing: true, gpc: true };
    assert.deepEqual(nextChoices(undefined, {}, true), both);
    assert.deepEqual(nextChoices(undefined, { gpc: true }, false), both);
    assert.deepEqual(nextChoices(none, { optOutOfSale: false, optOutOfSharing: false }, true), both);
    assert.deepEqual(nextChoices(none, { gpc: false }, true), both, "the header wins over the app's flag");
    // Without a signal any more, the opt-outs it caused stay until the user withdraws them.
    assert.deepEqual(nextChoices(both, { gpc: false }, false), { optOutOfSale: true, optOutOfSharing: true, gpc: false });
  });

  test("`gpc` is the truth about the last request that stated anything: an opt-in without a signal stores false; a read keeps it", () => {
    const both = { optOutOfSale: true, optOutOfSharing: true, gpc: true };
    assert.deepEqual(nextChoices(both, { optOutOfSale: false, optOutOfSharing: false }, false), none, "an explicit opt-in without the signal is honoured");
    assert.deepEqual(nextChoices(both, { optOutOfSale: false }, false), { optOutOfSale: false, optOutOfSharing: true, gpc: false });
    assert.deepEqual(nextChoices(both, { optOutOfSharing: true }, false), { ...both, gpc: false }, "an opt-out without the signal is no signal either");
    assert.deepEqual(nextChoices(both, {}, false), both, "{} only reads");
    assert.deepEqual(nextChoices(none, { optOutOfSale: false }, true), { optOutOfSale: true, optOutOfSharing: true, gpc: true }, "the signal opts out again");
  });

  test("the record's request type", () => {
    assert.equal(requestTypeOf({ optOutOfSale: true }, false), "opt-out");
    assert.equal(requestTypeOf({ optOutOfSale: false, optOutOfSharing: true }, false), "opt-out");
    assert.equal(requestTypeOf({ gpc: true }, false), "opt-out");
    assert.equal(requestTypeOf({}, true), "opt-out");
    assert.equal(requestTypeOf({ optOutOfSale: false }, false), "opt-in");
    assert.equal(requestTypeOf({}, false), undefined);
    assert.equal(requestTypeOf({ gpc: false }, false), undefined);
  });

  test("requests: booleans only, no other field; no data means {}", () => {
    assert.deepEqual(setPrivacyChoicesRequestSchema.parse(null), {});
    assert.deepEqual(setPrivacyChoicesRequestSchema.parse(undefined), {});
    for (const bad of [{ optOutOfSale: "yes" }, { optOutOfSale: 1 }, { other: true }, [], "x"])
      assert.equal(setPrivacyChoicesRequestSchema.safeParse(bad).success, false, JSON.stringify(bad));
    assert.equal(sameChoices(undefined, none), false);
    assert.equal(sameChoices(none, { ...none }), true);
  });
});
