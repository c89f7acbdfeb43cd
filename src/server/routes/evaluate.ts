import type { FastifyInstance } from "fastify";
import type { Decider } from "../../decide/decider.js";
import { parseRequest } from "../../engine/request.js";
import type { ResourceRequest } from "../../engine/types.js";
import { InputError } from "../../errors.js";
import type { ServerContext } from "../context.js";
import { RequestLimitError } from "../http-errors.js";

const MAX_DETAILS = 20;
const JSON_TYPE = "application/json; charset=utf-8";

/** POST /v1/evaluate: one request → one decision; an array → decisions in the same order. */
export function registerEvaluateRoute(app: FastifyInstance, ctx: ServerContext): void {
  const { reloader, metrics, decisionLog, limits, encode } = ctx;

  app.post("/v1/evaluate", (request, reply) => {
    const body = request.body;
    // One snapshot per HTTP request: every decision of a batch comes from the same revision.
    const snapshot = reloader.current();
    const { decider } = snapshot;
    const logging = decisionLog.enabled;
    const time = logging ? ctx.now().toISOString() : "";
    const decide = (input: ResourceRequest): string => {
      const decision = decider.decide(input);
      metrics.recordDecision("evaluate", decision);
      const encoded = encode(decision);
      if (logging) {
        decisionLog.write(
          {
            id: ctx.newId(),
            time,
            gate: "evaluate",
            policy_revision: snapshot.revision,
            request_id: request.id,
            input,
          },
          encoded.logFields,
        );
      }
      return encoded.answer;
    };

    if (!Array.isArray(body))
      return reply.type(JSON_TYPE).send(decide(guarded(parseRequest(body, "request"), "request", decider)));

    if (body.length > limits.maxBatch)
      throw new RequestLimitError(
        `a batch of ${body.length} requests is over the limit of ${limits.maxBatch} (--max-batch)`,
      );
    const inputs = parseBatch(body, decider);
    const answers = new Array<string>(inputs.length);
    let bytes = inputs.length + 1; // "[", the commas, "]"
    for (let i = 0; i < inputs.length; i++) {
      const answer = decide(inputs[i]!);
      answers[i] = answer;
      bytes += Buffer.byteLength(answer);
    }
    // One buffer, each answer encoded into it in turn. Joining the answers as strings walks every
    // piece of every schema-serialised string again (~1 ms per batch of 100), and a Buffer per answer
    // costs an allocation each (~3 µs: more than encoding the answer).
    const out = Buffer.allocUnsafe(Math.max(bytes, 2));
    let at = out.write("[", 0, "latin1");
    for (let i = 0; i < answers.length; i++) {
      if (i > 0) at += out.write(",", at, "latin1");
      at += out.write(answers[i]!, at);
    }
    out.write("]", at, "latin1");
    return reply.type(JSON_TYPE).send(out);
  });
}

/**
 * The request, unless the decider's guard refuses it (a misspelt spec): said here, with where it is,
 * so a batch names every such item and none is decided (or logged) before the refusal.
 */
function guarded(request: ResourceRequest, where: string, decider: Decider): ResourceRequest {
  const why = decider.guard?.refusal(request);
  if (why !== undefined) throw new InputError(`${where} is not valid: ${why}`);
  return request;
}

/** Checks every item, reporting all invalid ones at once (up to a readable number). */
function parseBatch(body: unknown[], decider: Decider): ResourceRequest[] {
  const out = new Array<ResourceRequest>(body.length);
  const problems: string[] = [];
  let invalid = 0;
  for (let i = 0; i < body.length; i++) {
    try {
      out[i] = guarded(parseRequest(body[i], `item ${i}`), `item ${i}`, decider);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      invalid++;
      if (problems.length < MAX_DETAILS) problems.push(err.message);
    }
  }
  if (invalid > 0) {
    if (invalid > problems.length) problems.push(`... and ${invalid - problems.length} more`);
    throw new InputError(
      `${invalid} of ${body.length} requests in the batch ${invalid === 1 ? "is" : "are"} not valid: ${problems[0]}${invalid > 1 ? " (see details)" : ""}`,
      problems,
    );
  }
  return out;
}
