/**
 * The privacy receipt of one job, as the callables answer it (`receipt` on createJob's image answer
 * and on getJobResult): who received the photo, when our copies went, when the result goes.
 */

/** A `<time>` element, readable locally, exact in its datetime attribute. */
function timeElement(iso) {
  const time = document.createElement("time");
  time.dateTime = iso;
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  time.textContent = sameDay ? date.toLocaleTimeString() : date.toLocaleString();
  return time;
}

/** A line of text with `<time>`s in it: parts are strings or ISO times wrapped as { at }. */
function line(...parts) {
  const span = document.createElement("span");
  for (const part of parts) span.append(typeof part === "string" ? part : timeElement(part.at));
  return span;
}

/**
 * `job`: { jobId, feature, status, receipt, resultAcknowledgedAt? } where resultAcknowledgedAt is
 * when ackJobResult answered `deleted: true` for a video result.
 */
export function receiptRows(job) {
  const r = job.receipt;
  const rows = [];
  rows.push(["Photo sent to", line(`${r.providerName} (${r.provider}), model ${r.model}`)]);
  rows.push(["What that provider keeps", line(r.providerRetention)]);
  if (r.fallbacks?.length) {
    const tried = r.fallbacks.map((f) => `${f.provider} (${f.code})`).join(", ");
    rows.push(["Also tried first", line(`${tried}: these were down, and may have received the photo too`)]);
  }
  rows.push([
    "Your photo",
    r.inputDeleted
      ? r.inputDeletedAt ? line("deleted from our side at ", { at: r.inputDeletedAt }) : line("deleted from our side")
      : line("still with the job while it runs; deleted when it ends"),
  ]);
  let result;
  if (job.resultAcknowledgedAt) result = line("kept only until you received it: deleted at ", { at: job.resultAcknowledgedAt }, " (ackJobResult)");
  else if (r.resultHeldUntil) result = line("held for you until ", { at: r.resultHeldUntil }, ", or until this page confirms it has it");
  else if (job.feature !== "video" && job.status === "succeeded") result = line("returned in the answer to this page; never stored");
  else if (job.status === "succeeded") result = line("no longer held");
  else if (["queued", "running"].includes(job.status)) result = line("none yet");
  else result = line("none: the job ended ", job.status);
  rows.push(["Result", result]);
  if (r.statusKeptUntil) rows.push(["Job status record (no photo)", line("deleted by ", { at: r.statusKeptUntil })]);
  return rows;
}

/** Creates or updates the receipt's list item in `list` (one per job). */
export function showReceipt(list, job) {
  const id = `receipt-${job.jobId}`;
  let item = document.getElementById(id);
  if (!item) {
    item = document.createElement("li");
    item.id = id;
    item.className = "receipt";
    list.prepend(item);
  }
  const heading = document.createElement("h3");
  heading.textContent = `${job.feature} job ${job.jobId.slice(0, 8)}… — ${job.status}`;
  const dl = document.createElement("dl");
  for (const [term, value] of receiptRows(job)) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.append(value);
    dl.append(dt, dd);
  }
  item.replaceChildren(heading, dl);
}

/** After deleteMyData: the jobs' status records are gone too, so every receipt on the page says so. */
export function markStatusRecordsDeleted(list, at) {
  for (const item of list.querySelectorAll("li.receipt")) {
    let note = item.querySelector("p.deleted");
    if (!note) {
      note = document.createElement("p");
      note.className = "deleted";
      item.append(note);
    }
    note.replaceChildren(line("Job status record deleted with your data at ", { at }, " (deleteMyData)."));
  }
}
