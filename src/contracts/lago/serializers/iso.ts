/** Lago renders instants as ISO-8601 UTC without milliseconds: `2026-11-20T10:02:11Z`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
