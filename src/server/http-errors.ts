import { InputError, NotFoundError, PermissionDeniedError, PolicyValidationError } from "../errors.js";

/** A service an answer depends on (the Kubernetes API) could not be reached: 503, worth retrying. */
export class UnavailableError extends Error {
  override readonly name = "Unavailable";
}

/** A request over a configured limit (body size, batch size): 413. */
export class RequestLimitError extends Error {
  override readonly name = "PayloadTooLarge";
}

/** A request body in a content coding the server does not decode: 415, naming those it does. */
export class UnsupportedEncodingError extends Error {
  override readonly name = "UnsupportedMediaType";
}

/** The content codings request bodies may come in (besides none, `identity`). */
export const REQUEST_ENCODINGS = ["gzip", "deflate"] as const;

export interface HttpError {
  status: number;
  /** Headers the answer carries besides its body's. */
  headers?: Record<string, string>;
  body: { error: { name: string; message: string; details: readonly string[] } };
  /** Unexpected: worth a stack trace in the log. */
  unexpected: boolean;
}

const body = (name: string, message: string, details: readonly string[] = []) => ({
  error: { name, message, details },
});

/**
 * Maps any error to an HTTP answer `{error: {name, message, details}}`. Core errors carry no HTTP
 * codes; Fastify's own errors (body parsing, limits) are translated into the same shape.
 */
export function toHttpError(err: unknown, limits: { bodyLimit: number }): HttpError {
  if (err instanceof InputError)
    return { status: 400, body: body(err.name, err.message, err.details), unexpected: false };
  if (err instanceof PolicyValidationError)
    return {
      status: 400,
      body: body(
        err.name,
        err.message,
        err.problems.map((p) => p.message),
      ),
      unexpected: false,
    };
  if (err instanceof RequestLimitError)
    return { status: 413, body: body(err.name, err.message), unexpected: false };
  if (err instanceof UnsupportedEncodingError)
    return {
      status: 415,
      headers: { "accept-encoding": REQUEST_ENCODINGS.join(", ") },
      body: body(err.name, err.message),
      unexpected: false,
    };
  if (err instanceof UnavailableError)
    return { status: 503, body: body(err.name, err.message), unexpected: false };
  if (err instanceof NotFoundError)
    return { status: 404, body: body(err.name, err.message), unexpected: false };
  if (err instanceof PermissionDeniedError)
    return { status: 403, body: body(err.name, err.message), unexpected: false };

  const e = err as { code?: string; message?: string; statusCode?: number };
  // zlib's errors, from a body whose Content-Encoding says gzip or deflate and whose bytes are not.
  if (typeof e?.code === "string" && e.code.startsWith("Z_"))
    return {
      status: 400,
      body: body("InputError", `request body does not decode as its Content-Encoding says: ${e.message}`),
      unexpected: false,
    };
  switch (e?.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: body(
          "PayloadTooLarge",
          `request body is larger than the limit of ${formatBytes(limits.bodyLimit)} (--body-limit)`,
        ),
        unexpected: false,
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        status: 400,
        body: body("InputError", "request body is empty: expected JSON"),
        unexpected: false,
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: body("UnsupportedMediaType", "send the body as application/json"),
        unexpected: false,
      };
    case "FST_ERR_HANDLER_TIMEOUT":
      return { status: 503, body: body("Timeout", "the request took too long to answer"), unexpected: false };
  }
  const status = e?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500)
    return { status, body: body("InputError", e.message ?? "bad request"), unexpected: false };
  return {
    status: 500,
    body: body("InternalError", "internal error (see the server log)"),
    unexpected: true,
  };
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}
