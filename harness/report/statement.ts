// The statement a run's signature covers: an in-toto Statement v1 whose subject is every file of
// the run directory (relative path + SHA-256) and whose predicate is an in-toto test result
// (https://in-toto.io/attestation/test-result/v0.1). The configuration descriptors repeat, in a
// form a policy can read, what summary.json says about the run: harness and contract versions,
// the candidate manifest hash, seed, filters and waivers. summary.json is itself a subject, so
// whatever else it holds is bound by its digest even where the predicate does not repeat it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../codes.ts';
import { DRIVER_CONTRACT_VERSION } from '../driver/contract.ts';
import { canonicalJson } from './canonical-json.ts';
import { listRunFiles, sha256File, sha256Hex } from './run-files.ts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const TEST_RESULT_PREDICATE = 'https://in-toto.io/attestation/test-result/v0.1';

export type TestResult = 'PASSED' | 'WARNED' | 'FAILED';

export interface Subject {
  readonly name: string;
  readonly digest: { readonly sha256: string };
}

export interface ResourceDescriptor {
  readonly name: string;
  readonly uri?: string;
  readonly digest?: { readonly sha256: string };
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface TestResultPredicate {
  readonly result: TestResult;
  readonly configuration: readonly ResourceDescriptor[];
  readonly passedTests: readonly string[];
  readonly warnedTests: readonly string[];
  readonly failedTests: readonly string[];
}

export interface Statement {
  readonly _type: typeof STATEMENT_TYPE;
  readonly subject: readonly Subject[];
  readonly predicateType: typeof TEST_RESULT_PREDICATE;
  readonly predicate: TestResultPredicate;
}

export interface CandidateConfig {
  readonly name?: string;
  readonly version?: string;
  readonly profile?: string;
  /** Hex SHA-256 of the manifest the candidate declared (a `sha256:` prefix is accepted). */
  readonly manifestSha256?: string;
}

export interface WaiversConfig {
  /** A waivers file to hash: its bytes, exactly as the run read them. */
  readonly path?: string;
  /** Hex SHA-256 of the waivers file, when the caller hashed it already. */
  readonly sha256?: string;
  readonly entries?: readonly unknown[];
}

/**
 * What the statement records about the run. Every field is optional: by default each is read
 * from summary.json (`meta`, `waivers`), and a field given here wins over it.
 */
export interface RunConfiguration {
  readonly harnessVersion?: string;
  readonly driverContractVersion?: string;
  readonly node?: string;
  readonly candidates?: readonly CandidateConfig[];
  readonly seed?: string;
  /** Selection and run parameters: filter, tags, shard, profile, faults, certify, ... */
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly waivers?: WaiversConfig;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

function hexDigest(v: unknown): string | undefined {
  const s = str(v)
    ?.toLowerCase()
    .replace(/^sha256:/, '');
  return s && /^[0-9a-f]{64}$/.test(s) ? s : undefined;
}

function harnessPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function readJson(dir: string, rel: string): unknown {
  let text: string;
  try {
    text = readFileSync(join(dir, rel), 'utf8');
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `cannot read ${join(dir, rel)}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `${join(dir, rel)} is not JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** One name per scenario run, as summary.json's coverage matrix writes them: "ID variant profile". */
function testLists(dir: string): Pick<TestResultPredicate, 'passedTests' | 'warnedTests' | 'failedTests'> {
  let text: string;
  try {
    text = readFileSync(join(dir, 'results.jsonl'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return { passedTests: [], warnedTests: [], failedTests: [] };
    throw new HarnessError('HRN_ERR_IO', `cannot read results.jsonl: ${(e as Error).message}`, { cause: e });
  }
  const passed: string[] = [];
  const warned: string[] = [];
  const failed: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      throw new HarnessError('HRN_ERR_IO', `results.jsonl line ${i + 1} is not JSON`);
    }
    if (!isObject(r)) throw new HarnessError('HRN_ERR_IO', `results.jsonl line ${i + 1} is not an object`);
    const name = [str(r.id), str(r.variant), str(r.profile)].filter((x) => x !== undefined).join(' ');
    // INFORMATIONAL asserted nothing and NOT_APPLICABLE did not run: neither is a pass.
    if (r.outcome === 'PASS') passed.push(name);
    else if (r.outcome === 'NON_STRICT') warned.push(name);
    else if (r.outcome === 'FAIL' || r.outcome === 'TIMEOUT' || r.outcome === 'ERROR') failed.push(name);
  });
  return { passedTests: passed.sort(), warnedTests: warned.sort(), failedTests: failed.sort() };
}

/**
 * The certification verdict, never kinder than summary.json: PASSED only for a run that finished
 * and was certified; WARNED for such a run with SHOULD findings; FAILED for everything else,
 * including a run that was not certified because it covered only part of the catalogue.
 */
export function resultOf(summary: unknown): TestResult {
  const s = isObject(summary) ? summary : {};
  const counts = isObject(s.counts) ? s.counts : {};
  const n = (k: string) => (typeof counts[k] === 'number' ? (counts[k] as number) : 0);
  const certified = isObject(s.certification) && s.certification.certified === true;
  const partial = isObject(s.meta) && s.meta.partial === true;
  if (!certified || partial || n('FAIL') + n('TIMEOUT') + n('ERROR') > 0) return 'FAILED';
  return n('NON_STRICT') > 0 ? 'WARNED' : 'PASSED';
}

function candidatesFrom(meta: Json): CandidateConfig[] {
  const raw = meta.candidates ?? meta.candidate;
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : [];
  const shared = hexDigest(meta.manifestSha256 ?? meta.manifestHash);
  const out = list.filter(isObject).map((c): CandidateConfig => {
    const manifestSha256 =
      hexDigest(c.manifestSha256 ?? c.manifestHash) ??
      (isObject(c.manifest) ? sha256Hex(canonicalJson(c.manifest)) : undefined) ??
      shared;
    return {
      name: str(c.name),
      version: str(c.version),
      profile: str(c.profile ?? c.cryptoProfile),
      manifestSha256,
    };
  });
  if (out.length === 0 && shared) out.push({ manifestSha256: shared });
  return out;
}

const PARAMETER_KEYS = [
  'filter',
  'filters',
  'tags',
  'shard',
  'profile',
  'profiles',
  'faults',
  'certify',
  'evidence',
  'partial',
  'startedAt',
  'finishedAt',
] as const;

function waiversFrom(summary: Json, meta: Json): WaiversConfig {
  const raw = summary.waivers ?? meta.waivers;
  if (Array.isArray(raw)) return { entries: raw };
  if (!isObject(raw)) return {};
  const sha256 = hexDigest(raw.sha256 ?? raw.fileSha256 ?? raw.hash);
  return {
    ...(sha256 ? { sha256 } : {}),
    // `entries`, or `waivers` as a loaded waiver set (harness/report/waivers.ts) names them.
    ...(Array.isArray(raw.entries) ? { entries: raw.entries } : {}),
    ...(!Array.isArray(raw.entries) && Array.isArray(raw.waivers) ? { entries: raw.waivers } : {}),
  };
}

/** The configuration as summary.json records it, overridden field by field by `given`. */
export function runConfiguration(summary: unknown, given: RunConfiguration = {}): RunConfiguration {
  const s = isObject(summary) ? summary : {};
  const meta = isObject(s.meta) ? s.meta : {};
  const parameters: Record<string, unknown> = {};
  for (const k of PARAMETER_KEYS) if (meta[k] !== undefined) parameters[k] = meta[k];
  const fromSummary: RunConfiguration = {
    harnessVersion: str(meta.harnessVersion) ?? harnessPackageVersion(),
    driverContractVersion: str(meta.contractVersion ?? meta.driverContractVersion) ?? DRIVER_CONTRACT_VERSION,
    node: str(meta.node),
    candidates: candidatesFrom(meta),
    seed: str(meta.seed),
    parameters,
    waivers: waiversFrom(s, meta),
  };
  const merged: Record<string, unknown> = { ...fromSummary };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) merged[k] = v;
  return merged as RunConfiguration;
}

function waiversDescriptor(w: WaiversConfig): ResourceDescriptor {
  let sha256 = w.sha256 ? hexDigest(w.sha256) : undefined;
  if (w.path) {
    try {
      sha256 = sha256Hex(readFileSync(w.path));
    } catch (e) {
      throw new HarnessError(
        'HRN_ERR_IO',
        `cannot read the waivers file ${w.path}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }
  // Recorded even when empty: "no waivers" is a claim a reviewer wants signed too.
  return {
    name: 'waivers',
    ...(sha256 ? { digest: { sha256 } } : { uri: 'urn:interop-cert:waivers:none' }),
    annotations: { entries: w.entries ?? [] },
  };
}

function configurationOf(c: RunConfiguration, summary: unknown): ResourceDescriptor[] {
  const harnessVersion = c.harnessVersion ?? harnessPackageVersion();
  const out: ResourceDescriptor[] = [
    {
      name: 'harness',
      uri: `pkg:npm/interop-cert@${harnessVersion}`,
      annotations: {
        harnessVersion,
        driverContractVersion: c.driverContractVersion ?? DRIVER_CONTRACT_VERSION,
        ...(c.node ? { node: c.node } : {}),
      },
    },
  ];
  for (const cand of c.candidates ?? []) {
    const sha256 = hexDigest(cand.manifestSha256);
    const id = [cand.name, cand.version].filter(Boolean).join('@') || 'unnamed';
    out.push({
      name: 'candidate-manifest',
      ...(sha256 ? { digest: { sha256 } } : { uri: `urn:interop-cert:candidate:${encodeURIComponent(id)}` }),
      annotations: {
        ...(cand.name ? { name: cand.name } : {}),
        ...(cand.version ? { version: cand.version } : {}),
        ...(cand.profile ? { profile: cand.profile } : {}),
      },
    });
  }
  out.push({
    name: 'run-parameters',
    uri: 'urn:interop-cert:run-parameters',
    annotations: { ...(c.seed !== undefined ? { seed: c.seed } : {}), ...(c.parameters ?? {}) },
  });
  out.push(waiversDescriptor(c.waivers ?? {}));
  const s = isObject(summary) ? summary : {};
  const cert = isObject(s.certification) ? s.certification : {};
  out.push({
    name: 'certification',
    uri: 'urn:interop-cert:certification',
    annotations: {
      certified: cert.certified === true,
      ...(typeof cert.mustPassed === 'number' ? { mustPassed: cert.mustPassed } : {}),
      ...(typeof cert.mustTotal === 'number' ? { mustTotal: cert.mustTotal } : {}),
      reasons: Array.isArray(cert.reasons) ? cert.reasons.filter((r) => typeof r === 'string') : [],
      counts: isObject(s.counts) ? s.counts : {},
    },
  });
  return out;
}

/** Builds the statement over DIR as it is now. Refuses a directory that cannot be signed whole. */
export function buildStatement(dir: string, given: RunConfiguration = {}): Statement {
  const { files, others } = listRunFiles(dir);
  if (others.length > 0) {
    throw new HarnessError(
      'HRN_ERR_IO',
      `cannot sign ${dir}: ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} not a regular file (symlinks are not followed)`,
    );
  }
  const summary = readJson(dir, 'summary.json');
  return {
    _type: STATEMENT_TYPE,
    subject: files.map((name) => ({ name, digest: { sha256: sha256File(dir, name) } })),
    predicateType: TEST_RESULT_PREDICATE,
    predicate: {
      result: resultOf(summary),
      configuration: configurationOf(runConfiguration(summary, given), summary),
      ...testLists(dir),
    },
  };
}
