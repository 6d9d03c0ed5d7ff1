// Limits of the stanza codec (docs/PROFILE.md §9). Generous for every real stanza, tight
// enough that a hostile frame costs the harness a bounded amount of work.

export interface CodecLimits {
  /** UTF-8 bytes of one stanza. */
  readonly maxBytes: number;
  /** Element nesting; the root is depth 1. */
  readonly maxDepth: number;
  /** Elements in one stanza (an upload of 812 prekeys has about 2,450). */
  readonly maxElements: number;
  readonly maxAttributes: number;
  /** Characters of one attribute value, as written (a JWT is up to 4 KB). */
  readonly maxAttributeLength: number;
  readonly maxNameLength: number;
}

export const DEFAULT_LIMITS: CodecLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxElements: 10_000,
  maxAttributes: 64,
  maxAttributeLength: 4096,
  maxNameLength: 64,
};
