/**
 * The demo console: a client of the public callable contract, as the mobile app is. It signs in
 * anonymously, sends a photo with consent, follows the job, shows the result and its privacy
 * receipt, and exercises the user's rights (export, delete, opt out). No admin SDK, no backdoor:
 * everything goes through createJob, getJobResult, ackJobResult, cancelJob, uploadImage,
 * exportMyData, deleteMyData and setPrivacyChoices on the emulators named in /config.js.
 */
import config from "./config.js";
import { initializeApp } from "./vendor/firebase-app.js";
import { connectAuthEmulator, getAuth, onAuthStateChanged, signInAnonymously, signOut } from "./vendor/firebase-auth.js";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "./vendor/firebase-functions.js";
import { markStatusRecordsDeleted, showReceipt } from "./receipt.js";
import { sampleFacePng } from "./sampleFace.js";

/** How often a video job is asked for its status (production clients listen instead: docs/VIDEO-JOBS.md). */
const POLL_INTERVAL_MS = 1500;
const TERMINAL = ["succeeded", "failed", "cancelled", "expired"];

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ Firebase, pointed at the emulators

const app = initializeApp({ projectId: config.projectId, apiKey: config.apiKey });
const auth = getAuth(app);
connectAuthEmulator(auth, config.authEmulatorUrl, { disableWarnings: true }); // the header says it instead
const functions = getFunctions(app, config.region);
connectFunctionsEmulator(functions, config.functionsEmulator.host, config.functionsEmulator.port);

/** Calls a callable and returns its data; createJob may run a provider for minutes. */
const call = async (name, data, timeout = 70_000) => (await httpsCallable(functions, name, { timeout })(data)).data;

/** A callable's error in the user's words, with the documented code for the curious. */
function describeError(error) {
  const code = String(error?.code ?? "").replace(/^functions\//, "");
  const reason = error?.details?.reason;
  return `${error?.message ?? String(error)}${code ? ` (${code}${reason ? `: ${reason}` : ""})` : ""}`;
}

// ------------------------------------------------------------------ account

let signedIn = false;
let jobRunning = false;

onAuthStateChanged(auth, (user) => {
  signedIn = Boolean(user);
  $("account-status").textContent = user
    ? `Signed in anonymously on the Auth emulator (user ${user.uid.slice(0, 8)}…).`
    : "Signed out.";
  $("sign-in").hidden = signedIn;
  for (const id of ["submit", "export-data", "delete-data", "save-choices"]) $(id).disabled = !signedIn || (id === "submit" && jobRunning);
  if (user) void loadChoices();
});

async function signIn() {
  $("account-status").textContent = "Signing in anonymously…";
  try {
    await signInAnonymously(auth);
  } catch (error) {
    $("account-status").textContent = `Could not sign in: ${describeError(error)}. Is npm start still running?`;
    $("sign-in").hidden = false;
  }
}
$("sign-in").addEventListener("click", () => void signIn());

// ------------------------------------------------------------------ the form

$("emulators").textContent = `Auth ${config.authEmulatorUrl.replace(/^http:\/\//, "")}, Functions ${config.functionsEmulator.host}:${config.functionsEmulator.port}`;
$("policy-version").textContent = config.policyVersion;

/** Providers that may receive the photo for this feature: the ones config/runtime enables. */
function updateFeatureFields() {
  const feature = $("feature").value;
  const serves = (p) => (feature === "video" ? p.video : p.images);
  const usable = config.providers.filter((p) => p.enabled && serves(p));
  const others = config.providers.filter((p) => !p.enabled && serves(p));
  const select = $("provider");
  select.replaceChildren(...usable.map((p) => new Option(`${p.name} (${p.id})`, p.id)));
  select.value = usable.some((p) => p.id === config.defaults[feature]) ? config.defaults[feature] : (usable[0]?.id ?? "");
  $("provider-hint").textContent = others.length
    ? `Not enabled on this stack (an admin enables them in config/runtime, with their keys): ${others.map((p) => p.name).join(", ")}.`
    : "";

  updateStyles();
  $("style-field").hidden = feature !== "style";
  const wantsPrompt = feature === "edit" || feature === "video";
  $("prompt-field").hidden = !wantsPrompt;
  $("prompt-label").textContent = feature === "edit" ? "Prompt (required)" : "Prompt (optional)";
  $("prompt-hint").textContent = feature === "edit"
    ? `The local provider understands: ${config.localEditKeywords.join(", ")}. AI providers take any instruction.`
    : "How the picture should move, e.g. a gentle smile.";
}

/** The local provider has its own presets; the AI providers share a longer list. */
function updateStyles() {
  const styles = $("provider").value === "local" ? config.localStyles : config.styles;
  const chosen = $("style").value;
  $("style").replaceChildren(...styles.map((style) => new Option(style, style)));
  if (styles.includes(chosen)) $("style").value = chosen;
}
$("feature").addEventListener("change", updateFeatureFields);
$("provider").addEventListener("change", updateStyles);
updateFeatureFields();

/** The photo to send: a Blob with its type, from a file or the sample face. */
let photo;

function showPhoto(blob, caption) {
  const preview = $("photo-preview-img");
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(blob);
  $("photo-preview-caption").textContent = caption;
  $("photo-preview").hidden = false;
}

const EXTENSION_TYPES = { heic: "image/heic", heif: "image/heif", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };

$("photo-file").addEventListener("change", () => {
  const file = $("photo-file").files?.[0];
  if (!file) return;
  const type = file.type || EXTENSION_TYPES[file.name.split(".").pop()?.toLowerCase() ?? ""] || "application/octet-stream";
  photo = { blob: file, mimeType: type, name: file.name };
  showPhoto(file, `${file.name}, ${Math.round(file.size / 1024)} KB (${type})`);
});

$("sample-face").addEventListener("click", async () => {
  const blob = await sampleFacePng();
  photo = { blob, mimeType: "image/png", name: "sample-face.png" };
  $("photo-file").value = "";
  showPhoto(blob, `Generated sample face, ${Math.round(blob.size / 1024)} KB PNG`);
});

async function base64Of(blob) {
  const dataUrl = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  return dataUrl.slice(dataUrl.indexOf(",") + 1);
}

/** uploadImage: one multipart part `file`, the ID token as a Bearer header. */
async function uploadPhoto(p) {
  const body = new FormData();
  body.append("file", p.blob, p.name);
  const response = await fetch(config.uploadUrl, {
    method: "POST",
    headers: { Authorization: `Bearer ${await auth.currentUser.getIdToken()}` },
    body,
  });
  const answer = await response.json();
  if (!response.ok) throw Object.assign(new Error(answer.error?.message ?? `upload failed (HTTP ${response.status})`), { code: answer.error?.code, details: { reason: answer.error?.reason } });
  return answer.uploadId;
}

// ------------------------------------------------------------------ a job

let cancelRequested = false;
let currentJobId;

function say(text, progress) {
  $("progress").textContent = text;
  const bar = $("progress-bar");
  bar.hidden = progress === undefined;
  if (progress !== undefined) bar.value = progress;
}

function setRunning(running) {
  jobRunning = running;
  $("submit").disabled = running || !signedIn;
  $("cancel-job").hidden = true;
}

function showResult({ kind, url, caption, download }) {
  const img = $("result-img");
  const video = $("result-video");
  for (const media of [img, video]) if (media.src.startsWith("blob:")) URL.revokeObjectURL(media.src);
  img.hidden = kind !== "image";
  video.hidden = kind !== "video";
  if (kind === "image") img.src = url;
  else video.src = url;
  $("result-caption").textContent = caption;
  $("result").hidden = false;
  const link = $("result-download");
  link.href = url;
  link.download = download;
  link.hidden = false;
}

function buildRequest() {
  const feature = $("feature").value;
  const request = {
    requestId: crypto.randomUUID(), // the idempotency key: a retry never runs the job twice
    feature,
    provider: $("provider").value,
    consent: { faceDataProcessing: true, policyVersion: config.policyVersion },
  };
  if (feature === "style") request.style = $("style").value;
  const prompt = $("prompt").value.trim();
  if ((feature === "edit" || feature === "video") && prompt) request.prompt = prompt;
  return request;
}

function formProblem() {
  if (!photo) return "Choose a photo or use the generated sample face first.";
  if (!$("provider").value) return "No provider is enabled for this feature on this stack.";
  if ($("feature").value === "edit" && !$("prompt").value.trim()) return "Say in the prompt what to change.";
  if (!$("consent").checked) return "Please tick the consent box: the photo is only sent with your agreement.";
  return "";
}

$("job-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = formProblem();
  $("form-error").textContent = problem;
  if (problem) return;
  setRunning(true);
  cancelRequested = false;
  $("result").hidden = true;
  $("result-download").hidden = true;
  try {
    await runJob(buildRequest());
  } catch (error) {
    say(`The job did not run: ${describeError(error)}`);
  } finally {
    setRunning(false);
  }
});

async function runJob(request) {
  const transport = document.querySelector("input[name=transport]:checked").value;
  if (transport === "upload") {
    say("Uploading the photo (uploadImage)…");
    request.image = { uploadId: await uploadPhoto(photo) };
  } else {
    request.image = { base64: await base64Of(photo.blob), mimeType: photo.mimeType };
  }
  const provider = $("provider").selectedOptions[0]?.textContent ?? request.provider;
  say(`Sending the photo to ${provider} (createJob, ${request.feature})…`, undefined);
  const answer = await call("createJob", request, request.feature === "video" ? 70_000 : 180_000);
  currentJobId = answer.jobId;
  if (answer.result) {
    // Image features answer inline: the result was never stored on our side.
    const { mimeType, base64, width, height } = answer.result;
    const blob = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type: mimeType });
    showResult({ kind: "image", url: URL.createObjectURL(blob), caption: `${request.feature} result, ${width}×${height} ${mimeType}`, download: `photo-fixer-${request.feature}.${mimeType.split("/")[1]}` });
    say(`Done: job ${answer.jobId.slice(0, 8)}… succeeded.`, 100);
    showReceipt($("receipts"), { jobId: answer.jobId, feature: request.feature, status: answer.status, receipt: answer.receipt });
    return;
  }
  if (request.feature !== "video" || TERMINAL.includes(answer.status)) {
    say(`Job ${answer.jobId.slice(0, 8)}… ended ${answer.status}${answer.error ? `: ${answer.error.message}` : ""}.`);
    if (answer.receipt) showReceipt($("receipts"), { jobId: answer.jobId, feature: request.feature, status: answer.status, receipt: answer.receipt });
    return;
  }
  await followVideoJob(answer.jobId);
}

/**
 * Polls getJobResult until the job ends (the local Firestore server cannot serve the browser SDK's
 * listeners; production clients use onSnapshot on jobs/{jobId}, see docs/VIDEO-JOBS.md).
 */
async function followVideoJob(jobId) {
  $("cancel-job").hidden = false;
  for (;;) {
    const answer = await call("getJobResult", { jobId });
    const job = { jobId, feature: "video", status: answer.status, receipt: answer.receipt };
    showReceipt($("receipts"), job);
    if (answer.status === "succeeded") {
      $("cancel-job").hidden = true;
      await receiveVideo(job, answer.result);
      return;
    }
    if (TERMINAL.includes(answer.status)) {
      say(`Video job ${answer.status}${answer.error ? `: ${answer.error.message}` : ""}.`);
      return;
    }
    const progress = answer.progress ?? 0;
    say(`Video job ${jobId.slice(0, 8)}…: ${answer.status}${answer.progress !== undefined ? `, ${progress}%` : ""}. Checking again every ${POLL_INTERVAL_MS / 1000} s.`, progress);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    if (cancelRequested) return; // the cancel button's handler reports the outcome
  }
}

/** Downloads the held video into this page, then tells the server it can delete its copy. */
async function receiveVideo(job, result) {
  say("Video ready: downloading it from the short-lived URL…", 100);
  const response = await fetch(result.url);
  if (!response.ok) throw new Error(`the video could not be downloaded (HTTP ${response.status})`);
  const blob = await response.blob();
  showResult({ kind: "video", url: URL.createObjectURL(blob), caption: `video result, ${Math.round(blob.size / 1024)} KB ${result.mimeType}`, download: "photo-fixer-video.mp4" });
  const ack = await call("ackJobResult", { jobId: job.jobId });
  if (ack.deleted) showReceipt($("receipts"), { ...job, resultAcknowledgedAt: new Date().toISOString() });
  say(`Done: video job ${job.jobId.slice(0, 8)}… succeeded; the server deleted its copy once this page had it.`, 100);
}

$("cancel-job").addEventListener("click", async () => {
  if (!currentJobId) return;
  cancelRequested = true;
  $("cancel-job").hidden = true;
  try {
    const answer = await call("cancelJob", { jobId: currentJobId });
    const after = await call("getJobResult", { jobId: currentJobId }).catch(() => undefined);
    if (after?.receipt) showReceipt($("receipts"), { jobId: currentJobId, feature: "video", status: after.status, receipt: after.receipt });
    say(answer.status === "cancelled" ? "Job cancelled; its input is deleted." : `The job had already ended: ${answer.status}.`);
  } catch (error) {
    say(`Could not cancel: ${describeError(error)}`);
  }
});

// ------------------------------------------------------------------ your data

$("export-data").addEventListener("click", async () => {
  $("export-status").textContent = "Exporting (exportMyData)…";
  try {
    const data = await call("exportMyData", {});
    const json = JSON.stringify(data, null, 2);
    $("export-summary").replaceChildren(
      ...data.categories.map((c) => {
        const li = document.createElement("li");
        li.textContent = `${c.held ? "Held" : "None held"}: ${c.description}`;
        return li;
      }),
    );
    $("export-json").textContent = json;
    $("export-details").hidden = false;
    const link = $("export-download");
    if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([json], { type: "application/json" }));
    link.download = `photo-fixer-export-${data.exportedAt.slice(0, 10)}.json`;
    link.hidden = false;
    $("export-status").textContent = `Exported at ${new Date(data.exportedAt).toLocaleTimeString()}: ${data.data.jobs.items.length} job status record(s), no photos (none are kept).`;
  } catch (error) {
    $("export-status").textContent = `Export failed: ${describeError(error)}`;
  }
});

const DELETED_LABELS = {
  jobs: "job status records",
  privacyChoices: "privacy choices",
  quotas: "quota counters",
  uploads: "uploads",
  inputs: "staged inputs",
  results: "held results",
};

$("delete-data").addEventListener("click", async () => {
  const deleteAccount = $("delete-account").checked;
  $("delete-status").textContent = deleteAccount ? "Deleting your data and your account (deleteMyData)…" : "Deleting your data (deleteMyData)…";
  try {
    const answer = await call("deleteMyData", { deleteAccount });
    const counts = Object.entries(answer.deleted).filter(([, n]) => n > 0).map(([what, n]) => `${n} ${DELETED_LABELS[what] ?? what}`).join(", ") || "nothing was held";
    const kept = answer.kept.map((k) => ` Kept: ${k.id}. ${k.reason}`).join("");
    $("delete-status").textContent = `Deleted: ${counts}.${kept}${answer.accountDeleted ? " Your account is deleted too." : ""}`;
    if (answer.deleted.jobs > 0) markStatusRecordsDeleted($("receipts"), new Date().toISOString());
    $("export-details").hidden = true;
    $("export-download").hidden = true;
    $("export-summary").replaceChildren();
    $("export-status").textContent = "";
    // Choices went with the data: the defaults (no opt-out) apply until they are sent again.
    showChoices({ optOutOfSale: false, optOutOfSharing: false });
    $("choices-status").textContent = "Your stored choices were deleted with your data; save them again to keep opting out.";
    if (answer.accountDeleted) await signOut(auth);
  } catch (error) {
    $("delete-status").textContent = `Deletion failed: ${describeError(error)}`;
  }
});

// ------------------------------------------------------------------ privacy choices

const browserSendsGpc = navigator.globalPrivacyControl === true;
$("gpc-hint").textContent = browserSendsGpc
  ? "Your browser sends Global Privacy Control: it counts as opting out of both."
  : "Your browser does not send Global Privacy Control (if it did, it would count as opting out of both).";

function showChoices(choices) {
  $("opt-out-sale").checked = choices.optOutOfSale;
  $("opt-out-sharing").checked = choices.optOutOfSharing;
  const optedOut = choices.optOutOfSale || choices.optOutOfSharing;
  $("analytics-status").textContent = optedOut
    ? "Analytics: this page would now switch its analytics off. It has none to switch off: neither this page nor the backend sends usage data to anyone."
    : "Analytics: none. This page has no analytics SDK and the backend sends usage data to nobody; an app that had one would switch it off when you opt out.";
}

async function loadChoices() {
  try {
    showChoices(await call("setPrivacyChoices", {})); // {} reads the stored choices back
  } catch (error) {
    $("choices-status").textContent = `Could not read your choices: ${describeError(error)}`;
  }
}

$("choices-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("choices-status").textContent = "Saving (setPrivacyChoices)…";
  try {
    const stored = await call("setPrivacyChoices", {
      optOutOfSale: $("opt-out-sale").checked,
      optOutOfSharing: $("opt-out-sharing").checked,
      ...(browserSendsGpc && { gpc: true }),
    });
    showChoices(stored);
    $("choices-status").textContent = `Saved${stored.updatedAt ? ` at ${new Date(stored.updatedAt).toLocaleTimeString()}` : " (nothing to change)"}: opted out of sale: ${stored.optOutOfSale ? "yes" : "no"}, of sharing: ${stored.optOutOfSharing ? "yes" : "no"}.`;
  } catch (error) {
    $("choices-status").textContent = `Could not save your choices: ${describeError(error)}`;
  }
});

await signIn();
