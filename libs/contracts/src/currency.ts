/**
 * ISO 4217 minor-unit exponents that differ from 2 (list one, as published by the ISO 4217 maintenance
 * agency); every other code uses 2. The `scale` of a Money in a currency's own minor units.
 */
const EXPONENT: Readonly<Record<string, number>> = {
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  CLF: 4,
  UYW: 4,
};

/** Decimal digits of the currency's minor unit (2 unless ISO 4217 says otherwise). */
export function currencyMinorExponent(currency: string): number {
  return EXPONENT[currency] ?? 2;
}
