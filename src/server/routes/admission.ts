import type { FastifyInstance } from "fastify";
import { InputError } from "../../errors.js";
import {
  ADMISSION_API_VERSION,
  type AdmissionResponse,
  allowedResponse,
  decisionResponse,
  planAdmission,
  readAdmissionReview,
  subjectOf,
  unreadableResponse,
} from "../../gates/kubernetes/admission.js";
import { workloadKind } from "../../gates/kubernetes/workload.js";
import type { ServerContext } from "../context.js";
import { ADMISSION_RESPONSE_SCHEMA } from "../schemas.js";

const review = (response: AdmissionResponse) => ({
  apiVersion: ADMISSION_API_VERSION,
  kind: "AdmissionReview",
  response,
});

/** POST /v1/admission: the Kubernetes validating admission webhook. */
export function registerAdmissionRoute(app: FastifyInstance, ctx: ServerContext): void {
  const { reloader, metrics, decisionLog } = ctx;

  app.post(
    "/v1/admission",
    { schema: { response: { 200: ADMISSION_RESPONSE_SCHEMA } } },
    (request, reply) => {
      const req = readAdmissionReview(request.body);
      // Metrics label by workload kind only, so made-up kinds can't grow the series without bound.
      const kindLabel = workloadKind(req.kind.group ?? "", req.kind.kind) ?? "other";
      let plan: ReturnType<typeof planAdmission>;
      try {
        plan = planAdmission(req, ctx.admission);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        metrics.recordAdmission(kindLabel, "unreadable");
        request.log.info(
          { reqId: request.id, uid: req.uid, kind: req.kind.kind, err: err.message },
          "admission object not readable",
        );
        return reply.send(review(unreadableResponse(req.uid, subjectOf(req), err.message)));
      }
      if (!plan.evaluate) {
        metrics.recordAdmission(kindLabel, "skipped");
        return reply.send(review(allowedResponse(req.uid)));
      }

      const snapshot = reloader.current();
      const decision = snapshot.decider.decide(plan.request);
      metrics.recordAdmission(kindLabel, "evaluated");
      metrics.recordDecision("admission", decision);
      if (decisionLog.enabled) {
        decisionLog.write(
          {
            id: ctx.newId(),
            time: ctx.now().toISOString(),
            gate: "admission",
            policy_revision: snapshot.revision,
            request_id: request.id,
            admission: {
              uid: req.uid,
              kind: req.kind.kind,
              operation: req.operation,
              namespace: req.namespace,
              name: plan.request.name,
              user: req.userInfo?.username,
              dry_run: req.dryRun === true,
            },
            input: plan.request,
          },
          ctx.encode(decision).logFields,
        );
      }
      return reply.send(
        review(decisionResponse(req.uid, subjectOf(req, plan.request), decision, snapshot.revision)),
      );
    },
  );
}
