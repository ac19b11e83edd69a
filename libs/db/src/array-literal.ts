/**
 * A PostgreSQL array literal (`{"a","b c",NULL,5,t}`) for a parameter cast to an array type
 * (`unnest($1::text[], $2::bigint[])`), built in one pass over the rows.
 *
 * pg turns a JavaScript array parameter into this same text itself, but element by element through its
 * generic `prepareValue` (a chain of type tests, a Buffer/Date/object branch, two regular-expression
 * replaces per string) after the caller built the array with a `map`: 2-5 % of a service writing a few
 * dozen columns per row (rating's CDRs). Strings are always quoted (so '', 'NULL' and text with commas,
 * braces or spaces stay text), with `\` and `"` escaped; numbers and bigints are written as digits;
 * booleans as t/f; null and undefined as NULL; a Date as its ISO string (an exact timestamptz, and cheaper
 * than pg's local-time formatting). PostgreSQL parses it exactly as it parses pg's own text.
 */
export type ArrayElement = string | number | bigint | boolean | Date | null | undefined;

function element(v: ArrayElement): string {
  switch (typeof v) {
    case 'string':
      return v.indexOf('"') < 0 && v.indexOf('\\') < 0
        ? `"${v}"`
        : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    case 'number':
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 't' : 'f';
    default:
      if (v === null || v === undefined) return 'NULL';
      if (v instanceof Date) return v.toISOString();
      throw new TypeError(`arrayLiteral: unsupported element of type ${typeof v}`);
  }
}

/** The literal of `get(item)` for every item, in order. */
export function arrayLiteral<T>(items: readonly T[], get: (item: T) => ArrayElement): string {
  if (items.length === 0) return '{}';
  let s = '{' + element(get(items[0]!));
  for (let i = 1; i < items.length; i++) s += ',' + element(get(items[i]!));
  return s + '}';
}

/** The literal of the values themselves. */
export function arrayLiteralOf(values: readonly ArrayElement[]): string {
  return arrayLiteral(values, (v) => v);
}
