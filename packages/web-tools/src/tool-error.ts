/** A failure whose message is written for the model and returned as the tool's `{"error": ...}`. */
export class ToolError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ToolError";
  }
}

/** The message of any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error.message || error.name;
    // add a system error code (ECONNRESET, ...) when the message does not already name it
    return typeof code === "string" && /^E[A-Z0-9_]+$/.test(code) && !message.includes(code)
      ? `${message} (${code})`
      : message;
  }
  return String(error);
}
