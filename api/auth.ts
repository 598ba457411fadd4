import type { RequestHandler } from 'express';
import type { Db } from 'mongodb';
import type { OrganizationDoc } from '../src/store/organizations';
import { findOrganizationByApiKey } from '../src/store/api-keys';
import { unauthorized } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    organization?: OrganizationDoc;
  }
}

/**
 * `Authorization: Bearer <key>`. Like Lago, the key is the second whitespace-separated token; the
 * scheme word is not checked. Missing, unknown or revoked key: 401. The key is read from the
 * database on every request (a point read by its hash), so a revocation holds at once everywhere;
 * it is never logged.
 */
export function authenticate(db: Db): RequestHandler {
  return async (req, _res, next) => {
    const key = (req.headers.authorization ?? '').trim().split(/\s+/)[1];
    if (!key) return next(unauthorized());
    const organization = await findOrganizationByApiKey(db, key);
    if (!organization) return next(unauthorized());
    req.organization = organization;
    next();
  };
}

export function organizationOf(req: { organization?: OrganizationDoc }): OrganizationDoc {
  if (!req.organization) throw unauthorized();
  return req.organization;
}
