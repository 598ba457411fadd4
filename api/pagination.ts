import { z } from 'zod';
import type { Collection, Document, Filter, WithId } from 'mongodb';

export const paginationQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  per_page: z.coerce.number().int().min(1).max(1000).default(100),
});

export type Pagination = z.infer<typeof paginationQuery>;

/** Lago's `meta`; an empty list has current_page 0 and total_pages 0. */
export function paginationMeta(p: Pagination, totalCount: number) {
  const totalPages = Math.ceil(totalCount / p.per_page);
  if (totalCount === 0) {
    return { current_page: 0, next_page: null, prev_page: null, total_pages: 0, total_count: 0 };
  }
  return {
    current_page: p.page,
    next_page: p.page < totalPages ? p.page + 1 : null,
    prev_page: p.page > 1 ? p.page - 1 : null,
    total_pages: totalPages,
    total_count: totalCount,
  };
}

/** One page of a collection, newest first, with its Lago `meta`. */
export async function findPage<T extends Document>(
  collection: Collection<T>,
  filter: Filter<T>,
  p: Pagination,
): Promise<{ docs: WithId<T>[]; meta: ReturnType<typeof paginationMeta> }> {
  const [total, docs] = await Promise.all([
    collection.countDocuments(filter),
    collection
      .find(filter)
      .sort({ created_at: -1, _id: -1 })
      .skip((p.page - 1) * p.per_page)
      .limit(p.per_page)
      .toArray(),
  ]);
  return { docs, meta: paginationMeta(p, total) };
}
