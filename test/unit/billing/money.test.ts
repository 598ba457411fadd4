import {
  Dec,
  ceil5,
  ceil5Ratio,
  floor5,
  formatQuantity,
  isDecimalString,
  minorToAmount,
  minorUnitsOf,
  prorateHalfUp,
  roundHalfUpToMinor,
} from '../../../src/billing';

describe('money: exact decimals, one half-up rounding to the minor unit', () => {
  it('knows ISO 4217 minor units, 2 by default', () => {
    expect(['USD', 'EUR', 'GBP', 'CHF', 'CAD', 'AUD', 'INR', 'BRL'].map(minorUnitsOf)).toEqual([
      2, 2, 2, 2, 2, 2, 2, 2,
    ]);
    expect(['JPY', 'KRW', 'CLP', 'VND'].map(minorUnitsOf)).toEqual([0, 0, 0, 0]);
    expect(['KWD', 'BHD', 'TND'].map(minorUnitsOf)).toEqual([3, 3, 3]);
    expect(minorUnitsOf('CLF')).toBe(4);
    expect(minorUnitsOf('constructor')).toBe(2);
  });

  it('rounds half up, once, to cents: 13.5484 → 1355, 0.005 → 1, 5.005 → 501, 72.5808 → 7258', () => {
    expect(roundHalfUpToMinor(new Dec('13.5484'), 'USD')).toBe(1355);
    expect(roundHalfUpToMinor(new Dec('0.005'), 'USD')).toBe(1);
    expect(roundHalfUpToMinor(new Dec('0.0049999'), 'USD')).toBe(0);
    expect(roundHalfUpToMinor(new Dec('5.005'), 'USD')).toBe(501);
    expect(roundHalfUpToMinor(new Dec('72.5808'), 'USD')).toBe(7258);
  });

  it('rounds yen to whole yen (0 decimals) and dinars to fils (3 decimals)', () => {
    expect(roundHalfUpToMinor(new Dec('107.42247'), 'JPY')).toBe(107);
    expect(roundHalfUpToMinor(new Dec('107.5'), 'JPY')).toBe(108);
    expect(roundHalfUpToMinor(new Dec('1.2345'), 'KWD')).toBe(1235);
    expect(minorToAmount(1235, 'KWD').toFixed()).toBe('1.235');
    expect(minorToAmount(108, 'JPY').toFixed()).toBe('108');
  });

  it('computes ceil(Σdays / D, 5 dp) exactly as a rational', () => {
    expect(ceil5Ratio(42, 31).toFixed()).toBe('1.35484'); // 1.354838709…
    expect(ceil5Ratio(62, 31).toFixed()).toBe('2'); // Lago's Postgres path says 2.00001
    expect(ceil5Ratio(20, 30).toFixed()).toBe('0.66667');
    expect(ceil5Ratio(0, 30).toFixed()).toBe('0');
    expect(ceil5Ratio(30, 30).toFixed()).toBe('1');
    expect(ceil5Ratio(1, 366).toFixed()).toBe('0.00274'); // 0.002732…
    expect(ceil5Ratio(9_007_199_254, 7).toFixed()).toBe('1286742750.57143');
    expect(() => ceil5Ratio(1, 0)).toThrow(RangeError);
  });

  it('rounds decimals up or down to 5 places', () => {
    expect(ceil5(new Dec('1.000001')).toFixed()).toBe('1.00001');
    expect(floor5(new Dec('17.969999999')).toFixed()).toBe('17.96999');
  });

  it('prorates integer cents half up: 1000 × 15/31 = 483.87 → 484, 9100 × 32/91 = 3200', () => {
    expect(prorateHalfUp(1000, 15, 31)).toBe(484);
    expect(prorateHalfUp(9100, 32, 91)).toBe(3200);
    expect(prorateHalfUp(1, 1, 2)).toBe(1); // 0.5 → 1
    expect(prorateHalfUp(3, 1, 2)).toBe(2); // 1.5 → 2
    expect(prorateHalfUp(1000, 0, 31)).toBe(0);
  });

  it('renders quantities as Lago does: "2.0", "0.0", "1.35484"', () => {
    expect(formatQuantity(new Dec(2))).toBe('2.0');
    expect(formatQuantity(new Dec('0'))).toBe('0.0');
    expect(formatQuantity(new Dec('-0'))).toBe('0.0');
    expect(formatQuantity(new Dec('1.35484'))).toBe('1.35484');
    expect(formatQuantity(new Dec('0.0000001'))).toBe('0.0000001');
    expect(formatQuantity(new Dec('12.50'))).toBe('12.5');
  });

  it('accepts plain decimal strings only', () => {
    expect(['10', '0.5', '-3.25', '0', '123456789012345678901234567890'].every(isDecimalString)).toBe(true);
    expect(
      ['1e3', '.5', '5.', '01', ' 1', 'NaN', '', '1234567890123456789012345678901'].some(isDecimalString),
    ).toBe(false);
  });

  it('never touches the global Decimal configuration', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Decimal = require('decimal.js') as typeof import('decimal.js').default;
    expect(Decimal.precision).toBe(20);
    expect(Decimal.rounding).toBe(Decimal.ROUND_HALF_UP);
    expect(Dec.precision).toBe(50);
  });
});
