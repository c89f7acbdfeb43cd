/** What a command may touch of the outside world; tests pass their own. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Reads standard input fully (injected so in-process tests can feed it). */
  readStdin: () => string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The clock (ms since the epoch); tests inject one. `--at` overrides it per command. */
  now?: () => number;
}
