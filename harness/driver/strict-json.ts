// What the harness accepts as a driver's JSON beyond what JSON.parse accepts: I-JSON (RFC 7493)
// and a depth limit. JSON.parse keeps the last of two members with one name where another
// parser keeps the first, so a driver tested against one parser could be read differently here;
// an escaped lone surrogate is no character at all; and a body nested a million deep parses
// fine but overflows the stack of everything that walks it afterwards (the call log, the
// report writer), turning a broken driver into what looks like a harness bug.

/** Deeper than any contract body (an event's media is 5 levels down), with room for error details. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The first I-JSON or depth problem of `text`, or undefined. Only meaningful for text that
 * JSON.parse accepts: on other text it may name a problem that is a syntax error underneath,
 * so a caller that wants the syntax error parses first.
 */
export function strictJsonProblem(text: string, maxDepth = MAX_JSON_DEPTH): string | undefined {
  // One entry per open container: the member names of an object, or null for an array.
  const open: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      const raw = text.slice(i, end + 1);
      const escaped = raw.includes('\\');
      let value: string | undefined;
      if (escaped) {
        try {
          value = JSON.parse(raw) as string;
        } catch {
          return undefined;
        }
        if (LONE_SURROGATE.test(value)) return `a string escapes a lone surrogate at character ${i}`;
      }
      const members = open.at(-1);
      if (expectName && members) {
        const name = value ?? raw.slice(1, -1);
        if (members.has(name))
          return `the member ${JSON.stringify(name).slice(0, 80)} appears twice in one object`;
        members.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      open.push(c === 0x7b ? new Set() : null);
      if (open.length > maxDepth) return `nested deeper than ${maxDepth} levels`;
      expectName = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}

/** Index of the quote that closes the string opening at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return -1;
    // Escaped when an odd number of backslashes precede it.
    let n = 0;
    while (text.charCodeAt(q - 1 - n) === BACKSLASH) n++;
    if (n % 2 === 0) return q;
    j = q + 1;
  }
}
