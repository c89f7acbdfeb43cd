import type { FastifyInstance } from "fastify";
import { InputError } from "../../errors.js";
import {
  ADMISSION_API_VERSION,
  type AdmissionRequest,
  type AdmissionResponse,
  admissionName,
  allowedResponse,
  decisionResponse,
  isScaleReview,
  notEvaluatedResponse,
  planAdmission,
  readAdmissionReview,
  scaledKind,
  scaledWorkloadReview,
  scaleTarget,
  subjectOf,
  unreadableResponse,
} from "../../gates/kubernetes/admission.js";
import { isObject } from "../../gates/kubernetes/pod-resources.js";
import { workloadKind } from "../../gates/kubernetes/workload.js";
import type { ServerContext } from "../context.js";
import type { DecisionLogHeader } from "../decision-log.js";
import { UnavailableError } from "../http-errors.js";
import { ADMISSION_RESPONSE_SCHEMA } from "../schemas.js";

const review = (response: AdmissionResponse) => ({
  apiVersion: ADMISSION_API_VERSION,
  kind: "AdmissionReview",
  response,
});

/** POST /v1/admission: the Kubernetes validating admission webhook. */
export function registerAdmissionRoute(app: FastifyInstance, ctx: ServerContext): void {
  const { reloader, metrics, decisionLog } = ctx;

  const logHeader = (
    req: AdmissionRequest,
    requestId: string,
    revision: string,
    input: unknown,
  ): DecisionLogHeader => ({
    id: ctx.newId(),
    time: ctx.now().toISOString(),
    gate: "admission",
    policy_revision: revision,
    request_id: requestId,
    admission: {
      uid: req.uid,
      kind: req.kind.kind,
      operation: req.operation,
      namespace: req.namespace,
      name: admissionName(req) || undefined,
      user: req.userInfo?.username,
      dry_run: req.dryRun === true,
    },
    input,
  });

  app.post(
    "/v1/admission",
    { schema: { response: { 200: ADMISSION_RESPONSE_SCHEMA } } },
    async (request, reply) => {
      let req = readAdmissionReview(request.body);
      let plan: ReturnType<typeof planAdmission>;
      try {
        if (isScaleReview(req)) {
          // A Scale carries no pod template: the workload is read from the API and reviewed with the
          // new replica count, as an UPDATE of it would be.
          const scaled = await scaledReview(req, ctx, request.log);
          if ("answer" in scaled) {
            metrics.recordAdmission(kindLabelOf(req), "skipped");
            return reply.send(review(scaled.answer));
          }
          req = scaled.review;
        }
        plan = planAdmission(req, ctx.admission);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        metrics.recordAdmission(kindLabelOf(req), "unreadable");
        request.log.info(
          { reqId: request.id, uid: req.uid, kind: req.kind.kind, err: err.message },
          "admission object not readable",
        );
        // Denied, so a decision: logged, with the reason in place of a decision's violations.
        if (decisionLog.enabled)
          decisionLog.write(
            logHeader(req, request.id, reloader.current().revision, null),
            `"decision":"deny","violations":[],"unverified":[],"not_evaluated":[],"unreadable":${JSON.stringify(err.message)}`,
          );
        return reply.send(review(unreadableResponse(req.uid, subjectOf(req), err.message)));
      }
      // Metrics label by workload kind only, so made-up kinds can't grow the series without bound.
      const kindLabel = kindLabelOf(req);
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
          logHeader(req, request.id, snapshot.revision, plan.request),
          ctx.encode(decision).logFields,
        );
      }
      return reply.send(
        review(decisionResponse(req.uid, subjectOf(req, plan.request), decision, snapshot.revision)),
      );
    },
  );
}

/** The workload kind under review; a scale review's is the kind it scales (its kind is Scale). */
function kindLabelOf(req: AdmissionRequest): string {
  if (isScaleReview(req)) return scaledKind(req) ?? "other";
  return workloadKind(req.kind.group ?? "", req.kind.kind) ?? "other";
}

type ScaledReview = { review: AdmissionRequest } | { answer: AdmissionResponse };

/**
 * A scale review turned into the review of the workload it scales; or the answer when that can't be
 * done: not a change (allowed), no API access (allowed, with a warning saying it was not evaluated),
 * or the API unreachable — 503, a failed call, so the webhook's failurePolicy decides as for any
 * costguard outage. A Scale that can't be read is an InputError (denied as unreadable).
 */
async function scaledReview(
  req: AdmissionRequest,
  ctx: ServerContext,
  log: { info(o: object, m: string): void; warn(o: object, m: string): void },
): Promise<ScaledReview> {
  if (req.operation !== "UPDATE") return { answer: allowedResponse(req.uid) };
  // A scale of a kind costguard does not evaluate (widgets.example.com, replicationcontrollers) is
  // admitted as that kind's own updates are: quietly, before any call to the API. (A review naming no
  // resource at all is left to scaleTarget, which says so.)
  if (isObject(req.resource) && typeof req.resource.resource === "string" && scaledKind(req) === undefined) {
    log.info({ uid: req.uid, resource: req.resource }, "scale of a kind that is not evaluated");
    return { answer: allowedResponse(req.uid) };
  }
  const { ref, replicas } = scaleTarget(req);
  const subject = `${ref.resource} ${ref.namespace}/${ref.name}`;
  // The review's own old Scale says a scale-down without asking the API (none needed, none warned).
  const before = previousReplicas(req);
  if (before !== undefined && replicas <= before) {
    log.info({ uid: req.uid, subject, replicas, current: before }, "scale down or unchanged: not evaluated");
    return { answer: allowedResponse(req.uid) };
  }
  if (!ctx.kubeApi) {
    log.info({ uid: req.uid, subject, replicas }, "scale not evaluated: no Kubernetes API access");
    return {
      answer: notEvaluatedResponse(
        req.uid,
        `costguard: scaling ${subject} to ${replicas} not evaluated (no Kubernetes API access: --kube-api)`,
      ),
    };
  }
  let workload: unknown;
  try {
    workload = await ctx.kubeApi.get(ref);
  } catch (err) {
    log.warn(
      { uid: req.uid, subject, err: (err as Error).message },
      "scale review: reading the workload failed",
    );
    throw new UnavailableError(
      `costguard cannot read ${subject} to review its scale: ${(err as Error).message}`,
    );
  }
  // Fewer pods cost less: a scale-down is never held back by a cost policy (even one the workload
  // breaks for other reasons, such as a missing tag) — it may be what an incident needs.
  const current = currentReplicas(workload);
  if (current !== undefined && replicas <= current) {
    log.info({ uid: req.uid, subject, replicas, current }, "scale down or unchanged: not evaluated");
    return { answer: allowedResponse(req.uid) };
  }
  return { review: scaledWorkloadReview(req, workload, replicas) };
}

/** The replicas of the Scale before the change (its `oldObject`), when the review carries it. */
function previousReplicas(req: AdmissionRequest): number | undefined {
  const spec = isObject(req.oldObject) ? req.oldObject.spec : undefined;
  const replicas = isObject(spec) ? spec.replicas : undefined;
  return typeof replicas === "number" && Number.isInteger(replicas) && replicas >= 0 ? replicas : undefined;
}

/** The workload's spec.replicas (1 when unset, as Kubernetes defaults it). */
function currentReplicas(workload: unknown): number | undefined {
  if (!isObject(workload)) return undefined;
  const replicas = isObject(workload.spec) ? (workload.spec.replicas ?? 1) : 1;
  return typeof replicas === "number" ? replicas : undefined;
}
