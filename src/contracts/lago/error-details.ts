import type { z } from 'zod';

/** Lago's `error_details`: field name -> list of snake_case error codes. */
export type LagoErrorDetails = Record<string, string[]>;

const MISSING = /received (undefined|null)$/;
const LAGO_CODE = /^[a-z_]+$/;

/**
 * zod issues as Lago `error_details`, keyed like Lago keys them: by the attribute of the record
 * that failed, not by a JSON path. Lago validates each charge (or billing configuration) as its own
 * record, so an issue at `charges.0.properties.amount` is reported as `properties`; list such
 * containers in `flatten`. Every other issue is keyed by its top-level field (`base` for the root).
 *
 * Codes: a missing or null required value is `value_is_mandatory`; a zod message that is itself a
 * Lago code (`.refine(fn, 'invalid_timezone')`) is used as is; anything else is `value_is_invalid`.
 */
export function lagoFieldDetails(error: z.ZodError, flatten: readonly string[] = []): LagoErrorDetails {
  const details: LagoErrorDetails = {};
  for (const issue of error.issues) {
    const code =
      issue.code === 'invalid_type' && MISSING.test(issue.message)
        ? 'value_is_mandatory'
        : LAGO_CODE.test(issue.message)
          ? issue.message
          : 'value_is_invalid';
    addDetail(details, fieldOf(issue.path, flatten), code);
  }
  return details;
}

function fieldOf(path: readonly PropertyKey[], flatten: readonly string[]): string {
  const [head, ...rest] = path;
  if (head === undefined) return 'base';
  if (typeof head === 'string' && flatten.includes(head)) {
    const inner = rest.find((segment) => typeof segment === 'string');
    if (typeof inner === 'string') return inner;
  }
  return String(head);
}

export function addDetail(details: LagoErrorDetails, field: string, code: string): void {
  const list = (details[field] ??= []);
  if (!list.includes(code)) list.push(code);
}

export function hasDetails(details: LagoErrorDetails): boolean {
  return Object.keys(details).length > 0;
}

export type LagoParseResult<T> = { ok: true; data: T } | { ok: false; details: LagoErrorDetails };

/** Validates a request object against a Lago schema; failures come back as Lago `error_details`. */
export function parseLagoInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  flatten: readonly string[] = [],
): LagoParseResult<z.infer<S>> {
  const parsed = schema.safeParse(value);
  return parsed.success
    ? { ok: true, data: parsed.data }
    : { ok: false, details: lagoFieldDetails(parsed.error, flatten) };
}
