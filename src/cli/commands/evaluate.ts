import { statSync } from "node:fs";
import type { Command } from "commander";
import { parseRequest } from "../../engine/request.js";
import type { Decision, ResourceRequest } from "../../engine/types.js";
import { InputError } from "../../errors.js";
import { readText } from "../../files.js";
import type { ByteSource } from "../../inventory/file/text-chunks.js";
import { addBudgetSourceOptions, type BudgetSourceOptions } from "../budget-options.js";
import type { CliContext } from "../context.js";
import { type LabelledDecision, renderDecisionTable } from "../decision-output.js";
import { addExceptionGateOptions, type ExceptionGateOptions } from "../exception-options.js";
import { CliExit, EXIT } from "../exit.js";
import { gateDeciderFromCli } from "../gate-decider.js";
import { holdInterrupts, type InterruptedError } from "../interrupt.js";
import { parseInputs, readStdinInput, type StreamedInput, streamInputs, WHOLE_INPUT_LIMIT } from "../io.js";
import { collect, POLICIES_OPTION_HELP } from "../policy-options.js";
import { progressBar } from "../progress.js";
import { useColor } from "../table.js";
import { written } from "../written.js";

export function registerEvaluate(program: Command, ctx: CliContext): void {
  const command = program
    .command("evaluate")
    .description("decide allow / warn / deny for resource requests")
    .argument(
      "[request]",
      "a JSON or YAML request, an array of them, or JSON lines; - or nothing reads stdin",
    )
    .option("-p, --policies <path>", POLICIES_OPTION_HELP, collect)
    .option(
      "--price-book <path>",
      "CSV or YAML price table adding to or overriding the embedded book (repeatable)",
      collect,
    )
    .option("--format <format>", "json or table", "json");
  addExceptionGateOptions(addBudgetSourceOptions(command))
    .addHelpText(
      "after",
      `
Output: one decision for one request, an array for an array, JSON lines for JSON lines. A file over
64 MiB (stdin too, once more than that has come) is read as a stream (it must be JSON lines or a JSON
array): each part's decisions are written before the next is read, in flat memory; a bad request
stops it there, the decisions before it written.
  {"decision": "allow|warn|deny", "violations": [...], "unverified": [...], "not_evaluated": [...],
   "estimated_monthly_cost": {"status": "known", "monthly": "560.64", "currency": "USD", ...}}
A request with only specs.instance_type gets vcpus, memory_gb and instance_family from the price
book (embedded, plus --price-book files); monthly cost = hourly × 730.
Exit codes: 0 every request allowed or warned, 1 any denied, 2 bad input, 3 the database approved
exceptions are read from failed (unreachable, or failing) or the output cannot be written; a stream
whose reader closes the output before its end (| head) stops there, exit 141.

Budget rules need billing data: with --billing (or a saved --budget-state) a request matching a
budget whose block-new-resources threshold is reached is denied, and one whose estimated monthly cost
(the price book's) would push the forecast past the limit is warned (denied with
denyOnForecastOverrun). Without billing data they are listed under not_evaluated.

Approved, unexpired exceptions in the store (--database, or the default file when it exists) move
the violations they cover to "excepted" (with the exception id) and the decision is made again
from the rest; --no-exceptions decides without them (docs/exceptions.md).

Examples:
  costguard evaluate --policies examples/guide-main examples/requests/non-compliant.json
  costguard evaluate --policies P --billing F --at 2024-09-30T23:00:00Z request.json`,
    )
    .action(
      async (
        requestPath: string | undefined,
        opts: { policies?: string[]; priceBook?: string[]; format: string } & BudgetSourceOptions &
          ExceptionGateOptions,
      ) => {
        if (opts.format !== "json" && opts.format !== "table")
          throw new InputError(`--format must be json or table, got ${opts.format}`);
        const { decider } = await gateDeciderFromCli(opts, ctx);
        const decide = ({ value, where }: { value: unknown; where: string }) => {
          const request = parseRequest(value, where);
          return { request, decision: decider.decide(request) };
        };
        const limit = ctx.streamAbove ?? WHOLE_INPUT_LIMIT;
        const stdin = requestPath === undefined || requestPath === "-";
        const name = stdin ? "stdin" : requestPath!;
        // Small inputs are read whole; a file over the limit, or stdin once more than the limit has
        // come, is read as a stream.
        let text: string | undefined;
        let stream: { source: ByteSource; first?: string | undefined; size?: number } | undefined;
        if (stdin && ctx.stdinChunks) {
          const read = await readStdinInput(ctx.stdinChunks(), limit);
          if ("text" in read) text = read.text;
          else stream = { source: read.rest, first: read.first };
        } else if (stdin) text = ctx.readStdin();
        else {
          const size = statSync(requestPath!).size;
          if (size > limit) stream = { source: requestPath!, size };
          else text = readText(requestPath!);
        }
        if (stream !== undefined) {
          const { source, first, size } = stream;
          // Minutes of work for the biggest files: a progress bar on a terminal (nothing when piped).
          const bar = progressBar(ctx.stderr, "deciding", Date.now, "requests");
          let bytes = 0;
          let denied: boolean;
          // A reader that goes away (`| head`) or output that fails stops it at the next batch, said
          // with a non-zero exit: the requests after it were never decided, none of them is "allowed".
          const interrupts = holdInterrupts(undefined, undefined, { recorded: false, signals: false });
          try {
            const onBytes = (b: number) => {
              bytes = b;
            };
            denied = await decideStreamed(
              streamInputs(source, name, size, onBytes, first),
              decide,
              opts.format,
              ctx,
              (requests) => bar.update({ resources: requests, done: bytes, total: size }),
              interrupts.signal,
            );
          } finally {
            bar.done();
            interrupts.release();
          }
          if (denied) throw new CliExit(EXIT.denied);
          return;
        }
        const input = parseInputs(text!, name);
        // Every request is checked before any decision is written.
        const requests = input.values.map(({ value, where }) => parseRequest(value, where));
        const decisions: Decision[] = requests.map((r) => decider.decide(r));

        if (opts.format === "table") {
          const labelled = decisions.map((decision, i) => ({
            label: labelOf(requests[i]!, i, decisions.length === 1),
            decision,
          }));
          ctx.stdout.write(renderDecisionTable(labelled, useColor(ctx.stdout)));
        } else if (input.shape === "single") {
          ctx.stdout.write(`${JSON.stringify(decisions[0], null, 2)}\n`);
        } else if (input.shape === "array") {
          ctx.stdout.write(`${JSON.stringify(decisions, null, 2)}\n`);
        } else {
          for (const d of decisions) ctx.stdout.write(`${JSON.stringify(d)}\n`);
        }
        if (decisions.some((d) => d.decision === "deny")) throw new CliExit(EXIT.denied);
      },
    );
}

/** How a request is named in the table: its id, else its name, else its type (numbered among several). */
function labelOf(request: ResourceRequest, index: number, only: boolean): string {
  return request.id ?? request.name ?? (only ? request.type : `#${index + 1} ${request.type}`);
}

/**
 * Decides a streamed input as it is read and writes each chunk's decisions before reading on, in the
 * shape the input has (JSON lines, or an array laid out as JSON.stringify(decisions, null, 2) lays
 * it out). A bad request stops there: the decisions before it are written. The table needs every row
 * for its widths, so it is written at the end. Resolves whether any request was denied.
 */
async function decideStreamed(
  input: StreamedInput,
  decide: (v: { value: unknown; where: string }) => { request: ResourceRequest; decision: Decision },
  format: string,
  ctx: CliContext,
  onProgress: (requests: number) => void,
  signal: AbortSignal,
): Promise<boolean> {
  let denied = false;
  let count = 0;
  const labelled: LabelledDecision[] = [];
  let text = "";
  try {
    for await (const batch of input.batches) {
      for (const item of batch) {
        const { request, decision } = decide(item);
        if (decision.decision === "deny") denied = true;
        if (format === "table") labelled.push({ label: labelOf(request, count, false), decision });
        else if (input.shape === "lines") text += `${JSON.stringify(decision)}\n`;
        else
          text += `${count === 0 ? "[" : ","}\n  ${JSON.stringify(decision, null, 2).replaceAll("\n", "\n  ")}`;
        count++;
      }
      const batchText = text;
      text = "";
      await written(ctx.stdout, batchText, signal);
      signal.throwIfAborted();
      onProgress(count);
    }
    if (format === "table")
      await written(ctx.stdout, renderDecisionTable(labelled, useColor(ctx.stdout)), signal);
    else if (input.shape === "array") await written(ctx.stdout, count === 0 ? "[]\n" : "\n]\n", signal);
  } catch (err) {
    if (signal.aborted) {
      const reason = signal.reason as InterruptedError;
      ctx.stderr.write(
        `costguard: ${reason.message}: stopped after ${count} requests; the rest were not decided\n`,
      );
      throw new CliExit(reason.exitCode);
    }
    // A bad request (or bad text) stops the input there; the decisions made before it, this batch's
    // too, are written first, as the help promises.
    if (format === "table" && labelled.length > 0) text = renderDecisionTable(labelled, useColor(ctx.stdout));
    await written(ctx.stdout, text, signal);
    throw err;
  }
  return denied;
}
