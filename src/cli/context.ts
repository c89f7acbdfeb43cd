/** What a command may touch of the outside world; tests pass their own. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Reads standard input fully (injected so in-process tests can feed it). */
  readStdin: () => string;
  /**
   * Standard input as it arrives, for a command that streams a big input (evaluate); without it,
   * such a command reads it whole with readStdin.
   */
  stdinChunks?: () => AsyncIterable<Buffer>;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The clock (ms since the epoch); tests inject one. `--at` overrides it per command. */
  now?: () => number;
  /**
   * Request inputs over this many bytes are read as a stream (WHOLE_INPUT_LIMIT); tests lower it so a
   * streamed input need not be 64 MiB.
   */
  streamAbove?: number;
}
