/**
 * The one list of user data (paths.ts) is complete, and export, deletion and the purge all handle
 * every entry of it: adding a path or a location that one of them does not handle fails here.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { settings } from "../config/params.js";
import { firestorePaths, TRANSIENT_KINDS, transientPaths } from "../storage/paths.js";
import {
  DATA_CATEGORIES,
  FIRESTORE_PATHS_BY_LOCATION,
  firestoreRetentionRules,
  LOCATION_KINDS,
  NON_USER_COLLECTIONS,
  userDataLocations,
  type UserDataLocation,
} from "./paths.js";
import { requestSubjectOf } from "./salt.js";

const locations = () => userDataLocations("user-1");

/** Locations that a handler table (kind → handler) has no entry for. */
function unhandled(list: Pick<UserDataLocation, "id" | "kind">[], handlers: Record<string, unknown>): string[] {
  return list.filter((l) => typeof handlers[l.kind] !== "function").map((l) => l.id);
}

describe("user data locations (paths.ts)", () => {
  test("every Firestore path is one of the locations, and every Firestore location names its paths", () => {
    const covered = new Set(Object.values(FIRESTORE_PATHS_BY_LOCATION).flat());
    for (const key of Object.keys(firestorePaths))
      assert.ok(covered.has(key as never), `firestorePaths.${key} is not in userDataLocations: export and deletion would miss it`);
    const ids = new Set(locations().map((l) => l.id));
    for (const id of Object.keys(FIRESTORE_PATHS_BY_LOCATION)) assert.ok(ids.has(id), `${id} names paths but is no location`);
    for (const l of locations())
      if (l.kind !== "storage-prefix") assert.ok(FIRESTORE_PATHS_BY_LOCATION[l.id], `${l.id} does not say which firestorePaths it covers`);
  });

  test("the runtime config document is in a collection declared as holding no user data", async () => {
    const { RUNTIME_CONFIG_PATH } = await import("../config/runtimeConfig.js");
    assert.ok(Object.hasOwn(NON_USER_COLLECTIONS, RUNTIME_CONFIG_PATH.split("/")[0]!), `${RUNTIME_CONFIG_PATH} is in no NON_USER_COLLECTIONS entry`);
  });

  test("every transient kind is a location, with the prefixes every transient path of the user is under", () => {
    const storage = locations().filter((l) => l.kind === "storage-prefix");
    assert.deepEqual(storage.map((l) => l.transientKind).sort(), [...TRANSIENT_KINDS].sort());
    assert.deepEqual(storage.map((l) => l.prefix).sort(), transientPaths.userPrefixes("user-1").sort());
    for (const path of [transientPaths.upload("user-1", "up"), transientPaths.input("user-1", "job"), transientPaths.result("user-1", "job")]) {
      assert.ok(
        storage.some((l) => path.startsWith(l.prefix)),
        `${path} is under no location`,
      );
    }
    assert.ok(!storage.some((l) => transientPaths.upload("user-2", "up").startsWith(l.prefix)), "another user's objects are not in this user's locations");
  });

  test("export and deletion have a handler for every location (and the check itself catches a missing one)", async () => {
    const { EXPORTERS } = await import("./exportData.js");
    const { DELETERS } = await import("./deleteData.js");
    assert.deepEqual(unhandled(locations(), EXPORTERS), [], "locations exportMyData cannot export");
    assert.deepEqual(unhandled(locations(), DELETERS), [], "locations deleteMyData cannot delete");
    for (const kind of LOCATION_KINDS) assert.equal(typeof EXPORTERS[kind], "function");
    assert.deepEqual(unhandled([{ id: "new-place", kind: "realtime-db" as never }], EXPORTERS), ["new-place"], "a location of a new kind is reported");
  });

  test("each location has one id, a described category, a retention, and a reason if deletion keeps it", () => {
    const list = locations();
    assert.equal(new Set(list.map((l) => l.id)).size, list.length, "ids are unique");
    for (const l of list) {
      assert.ok(DATA_CATEGORIES[l.category], `${l.id}: category described`);
      assert.ok(l.retention.text.length > 10, `${l.id}: retention stated`);
      if (l.onDelete.action === "keep") assert.ok(l.onDelete.reason.length > 20, `${l.id}: says why it is kept`);
    }
    // Only the records of requests survive a deletion: everything else goes.
    assert.deepEqual(
      list.filter((l) => l.onDelete.action === "keep").map((l) => l.id),
      ["privacyRequests"],
    );
  });

  test("the purge enforces the retention of every location that is not kept until deletion", () => {
    const rules = firestoreRetentionRules();
    for (const l of locations()) {
      if (l.retention.rule === "until-deleted") assert.equal(l.kind, "firestore-doc", `${l.id}: only per-user documents live until deletion`);
      else if (l.retention.rule === "transient-deadline") assert.equal(l.kind, "storage-prefix", `${l.id}: the transient purge covers it`);
      else assert.ok(l.kind === "firestore-query" && rules.some((r) => r.collection === l.collection), `${l.id}: the retention purge covers it`);
    }
    const jobs = rules.find((r) => r.collection === "jobs")!.retention;
    assert.equal(jobs.rule, "age");
    assert.equal(jobs.rule === "age" && jobs.maxAgeMs, settings().jobRetentionDays * 86_400_000);
    assert.equal(jobs.rule === "age" && jobs.onlyTerminalJobs, true);
  });

  test("records of requests are found by the salted hash, never the uid; the purge needs no salt", () => {
    const records = locations().find((l) => l.id === "privacyRequests");
    assert.ok(records?.kind === "firestore-query");
    assert.equal(records.value, requestSubjectOf("user-1"));
    assert.notEqual(records.value, "user-1");
    const saved = process.env.K_SERVICE;
    process.env.K_SERVICE = "purgeTransient"; // deployed, where the purge has no salt bound
    try {
      assert.throws(() => requestSubjectOf("user-1"), /PRIVACY_RECORD_SALT/, "deployed without the salt, no pseudonym is made up");
      assert.ok(firestoreRetentionRules().length >= 2, "the purge reads its rules without the salt");
    } finally {
      if (saved === undefined) delete process.env.K_SERVICE;
      else process.env.K_SERVICE = saved;
    }
  });

  test("JOB_RETENTION_DAYS sets the retention, and never below a day", () => {
    const s = settings();
    const rule = (days: number) => firestoreRetentionRules({ ...s, jobRetentionDays: days }).find((r) => r.collection === "jobs")!.retention;
    assert.equal((rule(7) as { maxAgeMs: number }).maxAgeMs, 7 * 86_400_000);
    assert.equal((rule(0) as { maxAgeMs: number }).maxAgeMs, 86_400_000);
    assert.match(userDataLocations("u", { ...s, jobRetentionDays: 7 })[0]!.retention.text, /^7 days/);
  });
});
