/**
 * The OpenAI image fake the load harness drives (functions/test/support/fakeServer.ts), answering
 * every edit after a fixed latency. A load run starts it in a process of its own (`node --import
 * tsx load/providerFake.ts <latencyMs>`): its work (parsing 12 MB multipart bodies, recording
 * calls) is the provider's, and in the harness's process it would delay the clients and the
 * Firestore and Storage servers that share that event loop. Chaos runs it in-process, to make it
 * hang on cue.
 */
import { FakeServer } from "../functions/test/support/fakeServer";
import { makeFaceImage } from "../functions/test/fixtures/images";

/**
 * Answers in the format the edit asked for, as OpenAI does: a transparent PNG for a cutout
 * (`output_format=png`), else a JPEG. A JPEG for a cutout is rightly refused by our result check
 * (`bad-result`, the job `failed`/`provider-unavailable`): every cutout of the first runs failed so.
 */
export async function answerAfterLatency(fake: FakeServer, latencyMs: number): Promise<void> {
  const jpeg = (await makeFaceImage({ width: 384, height: 384, format: "jpeg" })).toString("base64");
  const png = (await makeFaceImage({ width: 384, height: 384, format: "png", background: "transparent" })).toString("base64");
  fake.on("POST", "/images/edits", (call) => {
    const format = call.form?.get("output_format") === "png" ? "png" : "jpeg";
    return { delayMs: latencyMs, json: { created: 1767225600, output_format: format, data: [{ b64_json: format === "png" ? png : jpeg }] } };
  });
}

/** The fake records every request (bodies up to 15 MB): forget them as the run goes. */
export function forgetCalls(fake: FakeServer): void {
  setInterval(() => (fake.calls.length = 0), 500).unref();
}

if (process.argv[1]?.endsWith("providerFake.ts")) {
  void (async () => {
    const fake = await FakeServer.start();
    forgetCalls(fake);
    await answerAfterLatency(fake, Number(process.argv[2]));
    console.log(`READY ${fake.url}`);
  })();
}
