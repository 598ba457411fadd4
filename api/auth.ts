import type { RequestHandler } from 'express';
import type { Db } from 'mongodb';
import { organizations, type OrganizationDoc } from '../src/store/organizations';
import { findApiKey } from '../src/store/api-keys';
import { FreshReads } from '../src/store/fresh-reads';
import { unauthorized } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    organization?: OrganizationDoc;
  }
}

/** How long an organization document is reused by this process (the API reads only its id). */
const ORGANIZATION_CACHE_MS = 60_000;
const ORGANIZATION_CACHE_MAX = 10_000;

/**
 * `Authorization: Bearer <key>`. Like Lago, the key is the second whitespace-separated token; the
 * scheme word is not checked. Missing, unknown or revoked key: 401. Every request is answered from
 * a read of the key (a point read by its hash) that started after the request arrived, so a
 * revocation holds at once everywhere; concurrent requests with the same key share such reads
 * (`FreshReads`: about two per read's duration, not one per request). The key is never logged. Its organization is read once a minute per process: organizations are never
 * deleted, and the API takes only their id from this document (the webhook signing keys added to it
 * later are read where they are used). Issue #14: one point read less on every request.
 */
export function authenticate(db: Db): RequestHandler {
  const known = new Map<string, { organization: OrganizationDoc; until: number }>();
  const keys = new FreshReads((key) => findApiKey(db, key));
  return async (req, _res, next) => {
    const key = (req.headers.authorization ?? '').trim().split(/\s+/)[1];
    if (!key) return next(unauthorized());
    const found = await keys.get(key);
    if (!found || found.revoked_at) return next(unauthorized());
    const now = Date.now();
    let cached = known.get(found.organization_id);
    if (!cached || cached.until < now) {
      const organization = await organizations(db).findOne({ _id: found.organization_id });
      if (!organization) return next(unauthorized());
      if (known.size >= ORGANIZATION_CACHE_MAX) known.clear();
      cached = { organization, until: now + ORGANIZATION_CACHE_MS };
      known.set(found.organization_id, cached);
    }
    req.organization = cached.organization;
    next();
  };
}

export function organizationOf(req: { organization?: OrganizationDoc }): OrganizationDoc {
  if (!req.organization) throw unauthorized();
  return req.organization;
}
