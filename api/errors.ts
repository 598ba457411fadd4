import type { ErrorRequestHandler, RequestHandler } from 'express';
import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';

/** Lago error bodies (lago-api.md section 2). Every error the API returns is one of these. */
export type ErrorDetails = Record<string, unknown>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.error ?? status));
  }
}

export const badRequest = (message: string) =>
  new ApiError(400, { status: 400, error: `BadRequest: ${message}` });
export const unauthorized = () => new ApiError(401, { status: 401, error: 'Unauthorized' });
export const notFound = (resource: string) =>
  new ApiError(404, { status: 404, error: 'Not Found', code: `${resource}_not_found` });
export const methodNotAllowed = (code: string) =>
  new ApiError(405, { status: 405, error: 'Method Not Allowed', code });
export const validationErrors = (details: ErrorDetails) =>
  new ApiError(422, {
    status: 422,
    error: 'Unprocessable Entity',
    code: 'validation_errors',
    error_details: details,
  });
export const serviceUnavailable = (code: string, message: string) =>
  new ApiError(503, { status: 503, error: 'Service Unavailable', code, message });

/** A missing root key, as Rails' ParameterMissing renders it. */
export const missingParam = (name: string) =>
  badRequest(`param is missing or the value is empty or invalid: ${name}`);

export const notFoundRoute: RequestHandler = (_req, res) => {
  res.status(404).json({ status: 404, error: 'Not Found', code: 'route_not_found' });
};

/**
 * The one error mapper: ApiError as is; MongoDB unreachable (from any route, or from authentication)
 * as 503; body-parser failures (malformed JSON, too large) as 400/413; anything else is logged and
 * becomes a 500 (a bug: the tests send hostile input to prove none escape).
 */
export const errorMapper: ErrorRequestHandler = (err, _req, res, _next) => {
  if (err instanceof ApiError) {
    res.status(err.status).json(err.body);
    return;
  }
  if (err instanceof MongoServerSelectionError || err instanceof MongoNetworkError) {
    const { status, body } = serviceUnavailable(
      'database_unavailable',
      'the database cannot be reached; retry',
    );
    res.status(status).json(body);
    return;
  }
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.parse.failed') {
    res.status(400).json({ status: 400, error: 'BadRequest: malformed JSON body' });
    return;
  }
  if (e.type === 'entity.too.large') {
    res.status(413).json({ status: 413, error: 'Payload Too Large' });
    return;
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    res.status(e.status).json({ status: e.status, error: `BadRequest: ${e.message ?? 'invalid request'}` });
    return;
  }
  console.error('[api] unexpected error', err);
  res.status(500).json({ status: 500, error: 'Internal Server Error' });
};
