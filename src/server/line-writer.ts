import { close as closeFd, closeSync, mkdirSync, openSync, writev } from "node:fs";
import { dirname } from "node:path";

/**
 * Appends lines to a file or a file descriptor without blocking the caller: lines are gathered in
 * memory and written by one asynchronous write per chunk. A general-purpose writer (sonic-boom) was
 * measured first: in string mode it re-measures its growing buffer on every write (hundreds of µs
 * per line at 64 KiB), in buffer mode it costs a Buffer per line; joining strings per chunk costs
 * neither.
 */
export interface LineWriter {
  /** Queues one line (with its newline). Never blocks; drops (and counts) when too far behind. */
  write(line: string): void;
  /** Opens the file again, for log rotation (no-op for a file descriptor). */
  reopen(): void;
  /** Writes everything queued, then closes the file. */
  close(): Promise<void>;
}

export interface LineWriterOptions {
  /** Write once this many bytes are queued (default 64 Ki). */
  chunkChars?: number;
  /** Drop lines while this many bytes are queued and unwritten (default 128 Mi). */
  maxQueuedChars?: number;
  /** Write what is queued at least this often (default 1 s). */
  flushEveryMs?: number;
  onDrop?: (lines: number) => void;
  onError?: (err: Error) => void;
}

/**
 * Where lines go: a file descriptor, a file (appended; reopened on `reopen()`), or a function that
 * takes whole chunks of lines and calls back once they are handed on (a cluster worker sends its
 * chunks to the primary, which owns standard output).
 */
export type LineTarget =
  | { fd: number }
  | { path: string }
  | { send: (chunk: string, done: (err?: Error | null) => void) => void };

export function createLineWriter(target: LineTarget, options: LineWriterOptions = {}): LineWriter {
  const chunkChars = options.chunkChars ?? 64 * 1024;
  const maxQueued = options.maxQueuedChars ?? 128 * 1024 * 1024;
  const path = "path" in target ? target.path : undefined;
  const send = "send" in target ? target.send : undefined;
  // Creates a missing folder (one level: a recursive mkdir never returns on some paths under /proc).
  const openFile = (p: string) => {
    try {
      return openSync(p, "a");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      mkdirSync(dirname(p));
      return openSync(p, "a");
    }
  };
  let fd = path !== undefined ? openFile(path) : "fd" in target ? target.fd : -1;
  // Lines are encoded straight into a chunk buffer as they come: joining thousands of strings built
  // by concatenation walks every piece of each again, and a Buffer per line costs an allocation and a
  // second copy (measured: ~8 µs per 1 KB decision-log line either way, against ~1 µs this way).
  // `sealed` holds full chunks waiting for the write in flight.
  let sealed: Buffer[] = [];
  let chunk = Buffer.allocUnsafe(0);
  let used = 0;
  let queued = 0;
  let inFlight = 0;
  let writing = false;
  let reopenWanted = false;
  let closing = false;
  let whenIdle: (() => void) | undefined;

  const finishReopen = () => {
    if (!reopenWanted || writing || path === undefined) return;
    reopenWanted = false;
    try {
      const next = openFile(path);
      closeSync(fd);
      fd = next;
    } catch (err) {
      options.onError?.(err as Error);
    }
  };

  const seal = () => {
    if (used === 0) return;
    sealed.push(chunk.subarray(0, used));
    chunk = chunk.subarray(used);
    used = 0;
  };

  const flush = () => {
    if (writing || queued === 0) return;
    seal();
    const chunks = sealed;
    inFlight = queued;
    sealed = [];
    queued = 0;
    writing = true;
    if (send === undefined) {
      writeFrom(chunks);
      return;
    }
    send(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks, inFlight).toString(), (err) => {
      if (err) options.onError?.(err);
      done();
    });
  };

  const done = () => {
    writing = false;
    inFlight = 0;
    finishReopen();
    if (queued >= chunkChars || (closing && queued > 0)) flush();
    else if (closing && whenIdle) whenIdle();
  };

  // The chunks that piled up during the previous write go out in one writev, without a copy.
  const writeFrom = (chunks: Buffer[]) => {
    writev(fd, chunks, null, (err, written) => {
      if (err) {
        // A non-blocking pipe that is full: try again shortly.
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
          setTimeout(() => writeFrom(chunks), 10);
          return;
        }
        options.onError?.(err);
        done();
        return;
      }
      // A short write: continue from the first byte not written.
      let rest = written;
      let i = 0;
      while (i < chunks.length && rest >= chunks[i]!.length) rest -= chunks[i++]!.length;
      if (i === chunks.length) return done();
      writeFrom([chunks[i]!.subarray(rest), ...chunks.slice(i + 1)]);
    });
  };

  const timer = setInterval(flush, options.flushEveryMs ?? 1000);
  timer.unref();

  const writer: LineWriter = {
    write(line) {
      if (closing) return;
      // UTF-8 takes at most 3 bytes per UTF-16 code unit.
      const most = line.length * 3;
      if (queued + inFlight + most > maxQueued && queued + inFlight + Buffer.byteLength(line) > maxQueued) {
        options.onDrop?.(1);
        return;
      }
      if (chunk.length - used < most) {
        seal();
        chunk = Buffer.allocUnsafe(Math.max(chunkChars * 2, most));
      }
      const n = chunk.write(line, used);
      used += n;
      queued += n;
      if (queued >= chunkChars) flush();
    },
    reopen() {
      if (path === undefined || closing) return;
      reopenWanted = true;
      finishReopen();
    },
    close() {
      if (closing) return Promise.resolve();
      closing = true;
      clearInterval(timer);
      return new Promise<void>((resolve) => {
        whenIdle = () => {
          whenIdle = undefined;
          if (path === undefined) resolve();
          else closeFd(fd, () => resolve());
        };
        if (writing) return;
        if (queued > 0) flush();
        else whenIdle();
      });
    },
  };
  return writer;
}
