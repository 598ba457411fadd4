import { z } from 'zod';

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
