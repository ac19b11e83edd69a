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

/**
 * The literal of `get(item)` for every item, in order. The elements are joined (one flat string) rather
 * than concatenated one by one: each `+=` made a rope node (and each quoted element one or two more) that
 * pg's write then flattened anyway, ~60-130 bytes of garbage per element. A column of strings that need no
 * escaping (ids, names) is joined with `","` without quoting each element.
 */
export function arrayLiteral<T>(items: readonly T[], get: (item: T) => ArrayElement): string {
  const n = items.length;
  if (n === 0) return '{}';
  const parts: string[] = [];
  let plain = true; // so far every element a string without `"` or `\`: kept unquoted
  for (let i = 0; i < n; i++) {
    const v = get(items[i]!);
    if (plain && typeof v === 'string' && v.indexOf('"') < 0 && v.indexOf('\\') < 0) {
      parts.push(v);
      continue;
    }
    if (plain) {
      plain = false;
      for (let j = 0; j < i; j++) parts[j] = `"${parts[j]!}"`;
    }
    parts.push(element(v));
  }
  return plain ? '{"' + parts.join('","') + '"}' : '{' + parts.join(',') + '}';
}

/** The literal of the values themselves. */
export function arrayLiteralOf(values: readonly ArrayElement[]): string {
  return arrayLiteral(values, (v) => v);
}
