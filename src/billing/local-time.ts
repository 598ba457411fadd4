/**
 * Local calendar dates in an IANA time zone. Instants are epoch milliseconds (UTC); local dates are
 * `'YYYY-MM-DD'` strings. Day arithmetic is done on the calendar (civil day numbers), never by
 * adding 24 hours to an instant, so DST days are ordinary days (SPEC section 7).
 *
 * Only `Intl.DateTimeFormat` is used to learn a zone's UTC offset (it is available in the Temporal
 * workflow sandbox and is deterministic for a given ICU build). Offsets and local midnights are
 * memoised: they are pure functions of (zone, instant) and (zone, date).
 */

/** A local calendar date, `'YYYY-MM-DD'`. */
export type LocalDate = string;

const MS_PER_DAY = 86_400_000;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

// ---------------------------------------------------------------------------------------------
// Civil calendar (proleptic Gregorian), after Howard Hinnant's days_from_civil / civil_from_days.

/** Days since 1970-01-01 of a civil date. */
export function dayNumberOf(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthIndex = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * monthIndex + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The civil date of a day number. */
export function civilOf(dayNumber: number): { year: number; month: number; day: number } {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

export function formatLocalDate(year: number, month: number, day: number): LocalDate {
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** True for a real calendar date written `'YYYY-MM-DD'`. */
export function isLocalDate(value: string): boolean {
  const match = LOCAL_DATE.exec(value);
  if (!match) return false;
  const month = Number(match[2]);
  const day = Number(match[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(match[1]), month);
}

export function parseLocalDate(date: LocalDate): { year: number; month: number; day: number } {
  const match = LOCAL_DATE.exec(date);
  if (!match) throw new RangeError(`not a local date: ${date}`);
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

export function dayNumberOfDate(date: LocalDate): number {
  const { year, month, day } = parseLocalDate(date);
  return dayNumberOf(year, month, day);
}

export function dateOfDayNumber(dayNumber: number): LocalDate {
  const { year, month, day } = civilOf(dayNumber);
  return formatLocalDate(year, month, day);
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return dateOfDayNumber(dayNumberOfDate(date) + days);
}

/** Calendar days from `from` to `to` (`to - from`; 0 for the same date). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return dayNumberOfDate(to) - dayNumberOfDate(from);
}

/**
 * `months` months after `date`, keeping `anchorDay` (default: the date's own day) and clamping it to
 * the end of short months: from an anchor on the 31st, Jan 31 → Feb 29 → Mar 31.
 */
export function addMonths(date: LocalDate, months: number, anchorDay?: number): LocalDate {
  const { year, month, day } = parseLocalDate(date);
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = index - targetYear * 12 + 1;
  return formatLocalDate(
    targetYear,
    targetMonth,
    Math.min(anchorDay ?? day, daysInMonth(targetYear, targetMonth)),
  );
}

/** ISO weekday of a date: Monday 1 … Sunday 7. */
export function isoWeekdayOf(date: LocalDate): number {
  // 1970-01-01 (day 0) was a Thursday.
  return ((((dayNumberOfDate(date) + 3) % 7) + 7) % 7) + 1;
}

// ---------------------------------------------------------------------------------------------
// Time zones.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True for a time zone name `Intl` knows (IANA names, `UTC`). */
export function isTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function isUtc(timeZone: string): boolean {
  return timeZone === 'UTC' || timeZone === 'Etc/UTC' || timeZone === 'Etc/GMT';
}

/** The zone's UTC offset at an instant, in milliseconds (local wall time = instant + offset). */
export function zoneOffsetAt(at: number, timeZone: string): number {
  if (isUtc(timeZone)) return 0;
  const seconds = Math.floor(at / 1000) * 1000;
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(seconds)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
      default:
        break;
    }
  }
  const wall = dayNumberOf(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
  return wall - seconds;
}

/** The local calendar date of an instant in a zone. */
export function localDateOf(at: number, timeZone: string): LocalDate {
  const wall = at + zoneOffsetAt(at, timeZone);
  return dateOfDayNumber(Math.floor(wall / MS_PER_DAY));
}

const MIDNIGHT_CACHE_LIMIT = 200_000;
const midnights = new Map<string, number>();

/**
 * The first instant of a local date: its local midnight, or, where a DST jump skips midnight, the
 * instant of the jump (the first instant whose local date is `date`). Where midnight happens twice,
 * the first one.
 */
export function startOfLocalDay(date: LocalDate, timeZone: string): number {
  const wall = dayNumberOfDate(date) * MS_PER_DAY;
  if (isUtc(timeZone)) return wall;
  const key = `${timeZone}|${date}`;
  const cached = midnights.get(key);
  if (cached !== undefined) return cached;
  const offsetBefore = zoneOffsetAt(wall - MS_PER_DAY, timeZone);
  const offsetAfter = zoneOffsetAt(wall + MS_PER_DAY, timeZone);
  let result: number | null = null;
  for (const offset of [offsetBefore, offsetAfter]) {
    const candidate = wall - offset;
    if (zoneOffsetAt(candidate, timeZone) === offset && (result === null || candidate < result))
      result = candidate;
  }
  // No instant shows 00:00 on this date: the clocks jumped over midnight, the day starts at the jump.
  if (result === null) result = wall - offsetBefore;
  if (midnights.size >= MIDNIGHT_CACHE_LIMIT) midnights.clear();
  midnights.set(key, result);
  return result;
}

/**
 * The local midnights of a run of consecutive local dates, as a sorted table of instants, so that
 * an instant maps to its day by binary search (no `Intl` call per event).
 */
export interface DayTable {
  /** The first local date of the table (index 0). */
  firstLocalDate: LocalDate;
  /** `starts[i]` is the first instant of local date `firstLocalDate + i`; the last entry ends the table. */
  starts: number[];
}

/** A table of `days` local days starting at `firstLocalDate` (`days + 1` boundaries). */
export function buildDayTable(firstLocalDate: LocalDate, days: number, timeZone: string): DayTable {
  const first = dayNumberOfDate(firstLocalDate);
  const starts: number[] = new Array<number>(days + 1);
  for (let i = 0; i <= days; i += 1) starts[i] = startOfLocalDay(dateOfDayNumber(first + i), timeZone);
  return { firstLocalDate, starts };
}

/**
 * The day index of an instant in a table: -1 before the table, `days` (the table length) at or
 * after its end, else the `i` with `starts[i] <= at < starts[i + 1]`.
 */
export function dayIndexOf(table: DayTable, at: number): number {
  const starts = table.starts;
  const last = starts.length - 1;
  if (at < (starts[0] as number)) return -1;
  if (at >= (starts[last] as number)) return last;
  let low = 0;
  let high = last - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] as number) <= at) low = mid;
    else high = mid - 1;
  }
  return low;
}

export function localDateAtIndex(table: DayTable, index: number): LocalDate {
  return addDays(table.firstLocalDate, index);
}
