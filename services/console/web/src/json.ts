// The JSON the console API sends is the contracts' proto3 JSON (ts-proto toJSON): this maps a generated
// type to that shape, so pages are typed against the generated contracts. Dates and 64-bit integers
// arrive as strings, enums as their names, and every field may be absent (proto3 omits defaults).
export type Json<T> = T extends Date
  ? string
  : T extends bigint
    ? string
    : T extends Uint8Array
      ? string
      : T extends readonly (infer U)[]
        ? Json<U>[]
        : T extends object
          ? { [K in keyof T]?: Json<T[K]> }
          : T extends number
            ? number | string
            : T;
