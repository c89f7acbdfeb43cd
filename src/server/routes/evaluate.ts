import type { FastifyInstance } from "fastify";
import { parseRequest } from "../../engine/request.js";
import type { ResourceRequest } from "../../engine/types.js";
import { InputError } from "../../errors.js";
import type { ServerContext } from "../context.js";
import { RequestLimitError } from "../http-errors.js";

const MAX_DETAILS = 20;
const JSON_TYPE = "application/json; charset=utf-8";
const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");
const EMPTY = Buffer.from("[]");

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
    const decide = (input: ResourceRequest): Buffer => {
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
      // Bytes now, while the answer is small: joining a hundred answers as strings walks every
      // piece of every schema-serialised string (measured ~1 ms per batch of 100), copying each into
      // a buffer does not.
      return Buffer.from(encoded.answer);
    };

    if (!Array.isArray(body)) return reply.type(JSON_TYPE).send(decide(parseRequest(body, "request")));

    if (body.length > limits.maxBatch)
      throw new RequestLimitError(
        `a batch of ${body.length} requests is over the limit of ${limits.maxBatch} (--max-batch)`,
      );
    const inputs = parseBatch(body);
    if (inputs.length === 0) return reply.type(JSON_TYPE).send(EMPTY);
    const parts = new Array<Buffer>(inputs.length * 2 + 1);
    let length = 1;
    for (let i = 0; i < inputs.length; i++) {
      const answer = decide(inputs[i]!);
      parts[2 * i] = i === 0 ? OPEN : COMMA;
      parts[2 * i + 1] = answer;
      length += answer.length + 1;
    }
    parts[2 * inputs.length] = CLOSE;
    return reply.type(JSON_TYPE).send(Buffer.concat(parts, length));
  });
}

/** Checks every item, reporting all invalid ones at once (up to a readable number). */
function parseBatch(body: unknown[]): ResourceRequest[] {
  const out = new Array<ResourceRequest>(body.length);
  const problems: string[] = [];
  let invalid = 0;
  for (let i = 0; i < body.length; i++) {
    try {
      out[i] = parseRequest(body[i], `item ${i}`);
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
