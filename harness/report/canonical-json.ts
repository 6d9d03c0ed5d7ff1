// Canonical JSON in the manner of RFC 8785 (JCS) for the values the harness signs: object
// members sorted by their UTF-16 code units, no whitespace, numbers and strings as ECMAScript's
// JSON.stringify writes them. The same value always gives the same bytes, so signing a run twice
// gives the same statement and a reviewer can recompute it.
//
// Only plain JSON data is accepted. Object members whose value is undefined are left out (as
// JSON.stringify does), so optional fields can be built with `?:`; anything else that JSON cannot
// carry exactly (NaN, Infinity, bigint, functions, class instances) is refused rather than
// silently changed.

export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, at: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${at} is not a finite number`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON: ${at} is a ${typeof value}, which JSON cannot carry`);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => write(v, `${at}[${i}]`)).join(',')}]`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`canonical JSON: ${at} is not a plain object`);
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, which is the order RFC 8785 asks for.
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${write(record[k], `${at}.${k}`)}`).join(',')}}`;
}
