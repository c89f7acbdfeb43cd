import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/** GET /healthz, /readyz, /metrics and /openapi.json. */
export function registerStatusRoutes(app: FastifyInstance, ctx: ServerContext, openapi: object): void {
  const healthy = JSON.stringify({ status: "ok" });
  app.get("/healthz", (_request, reply) => reply.type("application/json; charset=utf-8").send(healthy));

  app.get("/readyz", (_request, reply) => {
    const s = ctx.reloader.current();
    const last = ctx.reloader.lastReload();
    const closing = ctx.closing();
    return reply.code(closing ? 503 : 200).send({
      status: closing ? "shutting-down" : "ready",
      policy: {
        revision: s.revision,
        policies: s.policies,
        rules: s.rules,
        files: s.files,
        loaded_at: s.loadedAt.toISOString(),
      },
      last_reload: {
        result: last.result,
        trigger: last.trigger,
        at: last.at.toISOString(),
        revision: last.revision,
        duration_ms: Math.round(last.durationMs * 10) / 10,
        ...(last.error !== undefined ? { error: last.error, problems: last.problems } : {}),
        ...(last.warnings !== undefined ? { warnings: last.warnings } : {}),
      },
      // Still ready with stale billing data (decisions go on, budgets under not_evaluated), but said.
      ...(ctx.budgets ? { budgets: ctx.budgets() } : {}),
    });
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await ctx.metrics.render();
    return reply.type(ctx.metrics.contentType).send(text);
  });

  const document = JSON.stringify(openapi);
  app.get("/openapi.json", (_request, reply) => reply.type("application/json; charset=utf-8").send(document));
}
