/**
 * Captures everything the process writes to stdout/stderr (firebase-functions' logger writes
 * structured JSON there), so tests can assert that no face data or prompt ever reaches a log.
 */
let captured: string[] = [];
let installed = false;

export function captureLogs(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
      captured.push(text);
      // Structured log lines are kept for assertions but not echoed (SHOW_LOGS=1 to see them).
      if (text.startsWith("{") && text.includes('"severity":"') && !process.env.SHOW_LOGS) return true;
      return original(chunk, ...rest);
    }) as typeof stream.write;
  }
}

export const capturedLogs = () => captured.join("");
export const clearCapturedLogs = () => {
  captured = [];
};
