import type { ErrorObject, ValidateFunction } from "ajv";
import { compileOwnSchema } from "./ajv.js";
import { InputError } from "./errors.js";

/** Says one schema error in words; undefined leaves it to the general wording. */
export type ErrorWording = (field: string, error: ErrorObject) => string | undefined;

/**
 * A compiled check of one JSON Schema: `is` answers fast (the hot path of a million records), `parse`
 * throws an InputError naming every problem, in `word`'s words where it has some (an error's `data`
 * is the value refused).
 */
export function schemaCheck<T>(schema: object, word: ErrorWording = () => undefined, root = "the value") {
  let validator: ValidateFunction | undefined;
  const compiled = (): ValidateFunction => {
    validator ??= compileOwnSchema(schema);
    return validator;
  };
  return {
    is: (value: unknown): value is T => compiled()(value),
    parse(value: unknown, where: string): T {
      const validate = compiled();
      if (validate(value)) return value as T;
      const details = (validate.errors ?? []).map((e) => {
        const field = e.instancePath.slice(1).replace(/\//g, ".") || root;
        const said = word(field, e);
        if (said !== undefined) return said;
        if (e.keyword === "required")
          return `${field === root ? "" : `${field}: `}missing \`${String(e.params.missingProperty)}\``;
        if (e.keyword === "pattern" && field === "type")
          return `\`${field}\` must look like category/kind (e.g. compute/instance)`;
        // NaN (YAML .nan) is a number to JSON Schema and fails every bound.
        if (typeof e.data === "number" && Number.isNaN(e.data))
          return `\`${field}\` must be a number, got NaN`;
        if (e.keyword === "maximum") return `\`${field}\` is too big to be a number (it reads as Infinity)`;
        if (e.keyword === "enum")
          return `\`${field}\` must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
        return `\`${field}\` ${e.message ?? "is not valid"}`;
      });
      // One field failing every branch of an anyOf says so once.
      const unique = [...new Set(details)];
      throw new InputError(`${where} is not valid: ${unique.join("; ")}`, unique);
    },
  };
}
