/**
 * Jest setup for the projects on the real clock (integration, e2e, faults): no test file starts
 * minutes before a month ends (scripts/clear-of-month-end.ts). A file of `npm test` lasts at most a
 * few minutes; a fault drill (`npm run test:faults`) up to 25.
 */
import { clearOfMonthEnd } from '../../scripts/clear-of-month-end';

const marginMs = (process.env.PRORATA_FAULT_DRILLS === 'all' ? 30 : 4) * 60_000;

beforeAll(() => clearOfMonthEnd(marginMs), marginMs + 60_000);
