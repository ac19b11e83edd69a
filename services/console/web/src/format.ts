import type { Json } from './json';
import type { Money } from '@smshub/contracts';

/** "EUR 12.50" from proto3 JSON Money (decimal string arithmetic, no float). */
export function money(m: Json<Money> | undefined | null): string {
  if (!m || !m.currencyCode) return '—';
  const scale = Number(m.scale ?? 0);
  const minor = BigInt(m.minorUnits ?? '0');
  const neg = minor < 0n;
  const digits = (neg ? -minor : minor).toString().padStart(scale + 1, '0');
  let amount = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  if (scale > 2) amount = amount.replace(/(\.\d\d\d*?)0+$/, '$1');
  const [int, frac] = amount.split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${m.currencyCode} ${neg ? '-' : ''}${grouped}${frac !== undefined ? `.${frac}` : ''}`;
}

export const num = (v: string | number | undefined) => Number(v ?? 0).toLocaleString('en-GB');

export function ratio(ppm: number | string | undefined): string {
  if (ppm === undefined) return '—';
  return `${(Number(ppm) / 10_000).toFixed(1)} %`;
}

export function ms(v: number | string | undefined): string {
  if (v === undefined) return '—';
  const n = Number(v);
  return n >= 10_000 ? `${(n / 1000).toFixed(0)} s` : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 23)} UTC`;
}

/** "DELIVERY_STATUS_DELIVERED" -> "delivered". */
export const enumName = (v: string | number | undefined, prefix: string) =>
  String(v ?? '')
    .replace(prefix, '')
    .toLowerCase()
    .replace(/_/g, ' ');
