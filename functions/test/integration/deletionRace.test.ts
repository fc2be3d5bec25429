/**
 * deleteMyData racing the same user's createJob (issue #11 point 5): deletion sweeps one location
 * after another, and a job committed meanwhile used to survive while the answer said everything
 * was deleted. Now the deletion marks `quotas/{uid}` first and createJob refuses new work while
 * the marker stands (privacy/deleteData.ts, quotas/deletionMarker.ts).
 *
 * Each round starts deleteMyData and three createJobs of one user at offsets drawn from a fixed
 * seed (DELETION_RACE_SEED to vary it); every other round the user already has a job, so the
 * quota document exists (an update conditioned on its version) or not (a create). After both
 * settle:
 *   - every createJob answered a documented outcome: succeeded, `unavailable`
 *     (deletion-in-progress), or `not-found` (job-not-found: its job was deleted while it ran);
 *   - every job committed before the deletion finished is gone. A surviving job must be new work
 *     admitted after it: it is then counted in the quota document that the deletion's end left
 *     absent (a job committed during the sweep is counted in a quota document the deletion
 *     removed afterwards, so the surviving document does not list it);
 *   - the counts match: deleted.jobs + survivors = the jobs that were ever committed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { HttpsError } from "firebase-functions/v2/https";
import { mulberry32 } from "../fuzz/generators.js";
import { useBackends } from "../support/backends.js";
import { callAs } from "../support/callables.js";
import { createJobRequest } from "../support/requests.js";
import { capturedLogs } from "../support/logCapture.js";

useBackends();
const fns = () => import("../../src/index.js");
const db = () => getFirestore();

const SEED = Number(process.env.DELETION_RACE_SEED ?? 1_111);
const ROUNDS = Number(process.env.DELETION_RACE_ROUNDS ?? 16);
const JOBS_PER_ROUND = 3;
/** Callers start within this many milliseconds of each other. */
const SPREAD_MS = 80;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Outcome = { jobId?: string; status?: string; code?: string; reason?: string };

async function settle(promise: Promise<{ jobId: string; status: string }>): Promise<Outcome> {
  try {
    return await promise;
  } catch (error) {
    if (!(error instanceof HttpsError)) throw error;
    return { code: error.code, reason: (error.details as { reason?: string } | undefined)?.reason };
  }
}

describe("the deletion marker in quotas/{uid}", () => {
  test("while it stands createJob is refused (unavailable, deletion-in-progress) with nothing written; a stale one (a crashed deletion) no longer blocks and goes with the next job's write", async () => {
    const { createJob } = await fns();
    const { deletionMarker, DELETION_MARKER_STALE_MS } = await import("../../src/quotas/deletionMarker.js");
    const { rejectionOf } = await import("../support/callables.js");
    await db().doc("quotas/marked").set(deletionMarker(Date.now()));
    const error = await rejectionOf(callAs(createJob, "marked", await createJobRequest()));
    assert.deepEqual([error.code, (error.details as { reason?: string }).reason], ["unavailable", "deletion-in-progress"]);
    assert.equal((await db().collection("jobs").where("uid", "==", "marked").count().get()).data().count, 0);

    await db()
      .doc("quotas/marked")
      .set(deletionMarker(Date.now() - DELETION_MARKER_STALE_MS - 1_000));
    assert.equal((await callAs<{ status: string }>(createJob, "marked", await createJobRequest())).status, "succeeded");
    const quota = (await db().doc("quotas/marked").get()).data()!;
    assert.deepEqual(Object.keys(quota).sort(), ["active", "features", "updatedAt"], "the stale marker went with the job's write");
  });
});

describe("deleteMyData racing the same user's createJob", () => {
  test(
    `${ROUNDS} seeded rounds (seed ${SEED}): nothing committed before the deletion finished survives, and the counts match`,
    { timeout: 600_000 },
    async () => {
      const { createJob, deleteMyData } = await fns();
      const random = mulberry32(SEED);
      const tally = { survived: 0, refused: 0, deletedUnderIt: 0, succeeded: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const uid = `racer-${SEED}-${round}`;
        const label = `round ${round} (seed ${SEED})`;
        const committed = new Set<string>();
        if (round % 2 === 0) committed.add((await callAs<{ jobId: string }>(createJob, uid, await createJobRequest())).jobId);
        const requests = await Promise.all(Array.from({ length: JOBS_PER_ROUND }, () => createJobRequest()));

        const deleting = (async () => {
          await delay(random.next() * SPREAD_MS);
          const result = await callAs<{ deleted: Record<string, number> }>(deleteMyData, uid, {});
          return { result };
        })();
        const creating = requests.map(async (request) => {
          await delay(random.next() * SPREAD_MS);
          return settle(callAs(createJob, uid, request));
        });
        const [{ result }, outcomes] = await Promise.all([deleting, Promise.all(creating)]);

        for (const outcome of outcomes) {
          const documented =
            outcome.status === "succeeded" ||
            (outcome.code === "unavailable" && outcome.reason === "deletion-in-progress") ||
            (outcome.code === "not-found" && outcome.reason === "job-not-found");
          assert.ok(
            documented,
            `${label}: createJob answered ${JSON.stringify(outcome)} ${capturedLogs()
              .split("\n")
              .filter((l) => /internal|error/i.test(l))
              .join("\n")}`,
          );
          if (outcome.status === "succeeded") tally.succeeded++;
          else if (outcome.code === "unavailable") tally.refused++;
          else tally.deletedUnderIt++;
        }
        // A job was committed by every createJob that succeeded or whose job was deleted under it.
        const { jobIdFor } = await import("../../src/jobs/jobId.js");
        outcomes.forEach((o, i) => o.code !== "unavailable" && committed.add(jobIdFor(uid, requests[i]!.requestId as string)));

        const survivors = (await db().collection("jobs").where("uid", "==", uid).get()).docs;
        const admittedAfter = Object.keys((await db().doc(`quotas/${uid}`).get()).get("active") ?? {});
        for (const doc of survivors) {
          assert.ok(admittedAfter.includes(doc.id), `${label}: job ${doc.id} was committed before the deletion finished, and survived it`);
          assert.ok(committed.has(doc.id), `${label}: an unexpected job`);
        }
        tally.survived += survivors.length;
        assert.equal(result.deleted.jobs! + survivors.length, committed.size, `${label}: deleted.jobs counts what was deleted`);
      }
      console.log(`# deletion race: ${JSON.stringify(tally)} over ${ROUNDS} rounds × ${JOBS_PER_ROUND} createJobs`);
      assert.ok(tally.refused + tally.deletedUnderIt > 0, "the rounds did race (some createJob met the deletion)");
    },
  );
});
