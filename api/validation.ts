import type { Request } from 'express';
import { z } from 'zod';
import { missingParam, validationErrors, type ErrorDetails } from './errors';

/**
 * zod issues as Lago error codes: a missing field is `value_is_mandatory`; a zod issue may carry its
 * own Lago code as its message (`z.string().refine(..., 'invalid_format')`); anything else is
 * `value_is_invalid`. Details are keyed by the top-level field name (Lago's shape).
 */
export function lagoDetails(error: z.ZodError): ErrorDetails {
  const details: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'base';
    const missing = issue.code === 'invalid_type' && /received undefined|received null/.test(issue.message);
    const code = missing
      ? 'value_is_mandatory'
      : /^[a-z_]+$/.test(issue.message)
        ? issue.message
        : 'value_is_invalid';
    const list = (details[field] ??= []);
    if (!list.includes(code)) list.push(code);
  }
  return details;
}

/** The object under `root` in the JSON body, validated; 400 when the root key is absent, 422 otherwise. */
export function parseRoot<S extends z.ZodType>(req: Request, root: string, schema: S): z.infer<S> {
  const body: unknown = req.body;
  const value =
    body && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)[root]
      : undefined;
  if (
    value === undefined ||
    value === null ||
    (typeof value === 'object' && Object.keys(value).length === 0)
  ) {
    throw missingParam(root);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationErrors(lagoDetails(parsed.error));
  return parsed.data;
}

/** Query parameters, validated: 422 with the parameter names. */
export function parseQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const parsed = schema.safeParse(req.query);
  if (!parsed.success) throw validationErrors(lagoDetails(parsed.error));
  return parsed.data;
}
