// The requirement catalogue's vocabulary. Each list is the single TypeScript copy of an enum in
// schemas/report/requirements.schema.json; a unit test keeps the two equal.

export const AREAS = [
  'STANZA',
  'SESSION',
  'KEYS',
  'MSG',
  'RCPT',
  'TYPING',
  'BLOCK',
  'E2EE',
  'MEDIA',
  'PRIV',
  'ROBUST',
] as const;
export type Area = (typeof AREAS)[number];

export const REQUIREMENT_LEVELS = ['MUST', 'SHOULD', 'MAY'] as const;
export type RequirementLevel = (typeof REQUIREMENT_LEVELS)[number];

export const BUG_CLASSES = [
  'FUNCTIONALITY',
  'INTEGRITY',
  'CONFIDENTIALITY',
  'AUTH_BYPASS',
  'REPLAY',
  'DOWNGRADE',
  'METADATA_LEAK',
  'DOS',
] as const;
export type BugClass = (typeof BUG_CLASSES)[number];

export const CRYPTO_PROFILES = ['signal-pqxdh', 'signal-x3dh'] as const;
export type CryptoProfileId = (typeof CRYPTO_PROFILES)[number];

export const DIRECTIONS = ['candidate-sends', 'candidate-receives', 'both'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Optional capabilities a candidate declares in its manifest. */
export const FEATURES = [
  'send-media',
  'send-voice',
  'reactions-send',
  'read-receipts-send',
  'typing-send',
  'presence',
] as const;
export type Feature = (typeof FEATURES)[number];

/** `REQ-AREA-NNN`. */
export type RequirementId = `REQ-${Area}-${string}`;

export interface SourceDocument {
  readonly id: string;
  readonly title: string;
  readonly version?: string;
  readonly publisher?: string;
  /** Absolute https address, or a path inside the repository. */
  readonly url?: string;
  readonly note?: string;
  /** When present, the only section names a requirement may cite. */
  readonly sections?: readonly string[];
}

export interface RequirementSource {
  /** Id of an entry in the catalogue's documents. */
  readonly document: string;
  readonly section: string;
  readonly anchor?: string;
  readonly note?: string;
}

export interface Requirement {
  readonly id: RequirementId;
  readonly level: RequirementLevel;
  readonly title: string;
  /** One normative, testable sentence. */
  readonly rule: string;
  /** One or two sentences copied verbatim from the cited section (checked for PROFILE). */
  readonly quote: string;
  readonly source: RequirementSource;
  readonly area: Area;
  readonly profiles: readonly CryptoProfileId[];
  readonly bugClass: BugClass;
  readonly direction?: Direction;
  /** Set only when the behaviour belongs to an optional, declared capability. */
  readonly feature?: Feature;
  readonly retired?: true;
  readonly replacedBy?: RequirementId;
}

export interface Catalogue {
  readonly version: 1;
  /** Where the catalogue was read from. */
  readonly path: string;
  readonly documents: readonly SourceDocument[];
  /** Every requirement, retired ones included, in file order. */
  readonly requirements: readonly Requirement[];
  byId(id: string): Requirement | undefined;
  documentById(id: string): SourceDocument | undefined;
}
