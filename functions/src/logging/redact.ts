/**
 * Reduces any thrown value to a name and a code that are safe to log: provider and library error
 * messages can quote request bodies, URLs with signatures, or tokens, so their text is never logged.
 */
export function errorSummary(error: unknown): { errorName: string; errorCode: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { errorName: error.name.slice(0, 60), errorCode: typeof code === "string" || typeof code === "number" ? String(code).slice(0, 60) : "none" };
  }
  return { errorName: typeof error, errorCode: "none" };
}
