// The metadata of a run, as summary.json records it (`meta`): what ran against what, with which
// settings, and whether the run finished. `interop-cert report` and `replay` read it back. Fields
// a run always writes but an older or hand-made summary may lack are optional.

import { createHash } from 'node:crypto';
import type { Manifest } from '../driver/contract.ts';
import { canonicalJson } from './canonical-json.ts';

export interface CandidateInfo {
  readonly name: string;
  readonly version: string;
  readonly profile: string;
  /** The manifest the candidate declared for this profile. */
  readonly manifest?: Manifest;
  /** SHA-256 (hex) of the manifest's canonical JSON (RFC 8785). */
  readonly manifestSha256?: string;
}

export interface RunMeta {
  readonly harnessVersion: string;
  readonly contractVersion: string;
  /** One entry per crypto profile the candidate ran under. */
  readonly candidate: readonly CandidateInfo[];
  /** `reference` (the bundled reference candidate) or the candidate's driver URL. */
  readonly target?: string;
  readonly faults?: readonly string[];
  readonly seed: string;
  /** Scenario id glob (`--filter`). */
  readonly filter?: string;
  /** Vitest tag expression (`--tags`). */
  readonly tags?: string;
  /** `--shard i/n`: this run holds shard `index` of `count`. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** `--certify` was given: the exit code follows the certification verdict. */
  readonly certify?: boolean;
  /** Which runs kept their evidence (`--evidence`). */
  readonly evidence?: 'failures' | 'all';
  readonly node: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** True until the run finished: a run cut short leaves a report that says so. */
  readonly partial: boolean;
  /** Set when Ctrl-C (SIGINT) or SIGTERM ended the run. */
  readonly interrupted?: boolean;
}

export function manifestSha256(manifest: Manifest): string {
  return createHash('sha256').update(canonicalJson(manifest), 'utf8').digest('hex');
}

export function candidateInfo(manifest: Manifest): CandidateInfo {
  return {
    name: manifest.name,
    version: manifest.version,
    profile: manifest.cryptoProfile,
    manifest,
    manifestSha256: manifestSha256(manifest),
  };
}
