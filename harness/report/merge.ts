// Joins the run directories of a sharded run (`run --shard i/n` on n CI machines) into one run.
// Every shard must come from the same run: same harness and contract versions, seed, candidate,
// faults and filter, one shard count, and each index from 1 to n exactly once; anything else is
// refused, because a merged report that silently mixes two runs would certify neither. The
// results are put back in the order an unsharded run produces them, so the merged summary is the
// unsharded one, not merely an equivalent.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { HarnessError } from '../codes.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import { CRYPTO_PROFILES } from '../requirements/types.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import { runKey } from './summary.ts';
import type { RunMeta } from './write.ts';

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>([
  'PASS',
  'FAIL',
  'NON_STRICT',
  'INFORMATIONAL',
  'NOT_APPLICABLE',
  'TIMEOUT',
  'ERROR',
]);

export interface ShardPosition {
  /** From 1. */
  readonly index: number;
  readonly count: number;
}

/** A result as results.jsonl holds it: no evidence, but where the evidence file is. */
export interface MergedResult extends ScenarioResult {
  readonly evidencePath?: string;
}

export interface EvidenceFile {
  /** The file in its shard directory. */
  readonly from: string;
  /** Its path relative to the run directory (POSIX), the same in the merged run. */
  readonly to: string;
}

export interface MergedMeta extends RunMeta {
  /** How many shards were joined. */
  readonly shards: number;
}

export interface MergedRun {
  /** In the order of an unsharded run; `evidence` is empty (the files are in evidenceFiles). */
  readonly results: readonly MergedResult[];
  readonly meta: MergedMeta;
  /** The crypto profiles of the run, for summarise. */
  readonly profiles: readonly CryptoProfileId[];
  readonly evidenceFiles: readonly EvidenceFile[];
}

export interface MergeOptions {
  /**
   * Run keys (`ID variant profile`) in the order an unsharded run makes them. Results not in it
   * follow, by profile and then key.
   */
  readonly order?: readonly string[];
}

interface Shard {
  readonly dir: string;
  readonly meta: Record<string, unknown>;
  readonly position: ShardPosition;
  readonly profiles: readonly string[];
  readonly results: MergedResult[];
  readonly evidence: EvidenceFile[];
}

function input(message: string): HarnessError {
  return new HarnessError('HRN_ERR_MERGE_INPUT', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw input(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** `meta.shard` as the run writes it ({ index, count }); also `i/n`. Absent: a whole run (1/1). */
export function shardOf(meta: Record<string, unknown>, where: string): ShardPosition {
  const s = meta.shard;
  if (s === undefined) return { index: 1, count: 1 };
  let index: number | undefined;
  let count: number | undefined;
  if (typeof s === 'string') {
    const m = /^(\d+)\/(\d+)$/.exec(s);
    index = Number(m?.[1]);
    count = Number(m?.[2]);
  } else if (isRecord(s)) {
    index = Number(s.index);
    count = Number(s.count ?? s.total);
  }
  if (
    !Number.isInteger(index) ||
    !Number.isInteger(count) ||
    !index ||
    !count ||
    index < 1 ||
    index > count
  ) {
    throw input(`${where}: meta.shard is not a shard i/n with 1 <= i <= n: ${JSON.stringify(s)}`);
  }
  return { index, count };
}

/** A POSIX path inside the run directory: relative, no `..`, no backslash. */
function insideRun(path: string): boolean {
  if (path === '' || isAbsolute(path) || path.includes('\\')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function parseLine(text: string, where: string): MergedResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw input(`${where}: not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(v)) throw input(`${where}: not a JSON object`);
  for (const k of ['id', 'variant', 'profile', 'level'] as const) {
    if (typeof v[k] !== 'string') throw input(`${where}: "${k}" must be a string`);
  }
  if (typeof v.outcome !== 'string' || !OUTCOMES.has(v.outcome)) {
    throw input(`${where}: "outcome" must be one of ${[...OUTCOMES].join(', ')}`);
  }
  if (!Array.isArray(v.requirements) || !v.requirements.every((r) => typeof r === 'string')) {
    throw input(`${where}: "requirements" must be a list of requirement ids`);
  }
  const findingOk = (f: unknown) =>
    isRecord(f) &&
    typeof f.requirement === 'string' &&
    typeof f.code === 'string' &&
    typeof f.level === 'string';
  if (!Array.isArray(v.findings) || !v.findings.every(findingOk)) {
    throw input(`${where}: "findings" must be a list of findings with level, code and requirement`);
  }
  if (v.evidencePath !== undefined && (typeof v.evidencePath !== 'string' || !insideRun(v.evidencePath))) {
    throw input(`${where}: "evidencePath" must be a relative path inside the run directory`);
  }
  // Lines carry no evidence; the empty one keeps the ScenarioResult shape for summarise. The
  // line's own keys stay in their order, so the merged results.jsonl repeats it byte for byte.
  return { ...v, evidence: { transcript: [], events: [] } } as unknown as MergedResult;
}

/** Every regular file below DIR/evidence, by its run-relative POSIX path. */
function evidenceOf(dir: string): EvidenceFile[] {
  const root = join(dir, 'evidence');
  try {
    if (!statSync(root).isDirectory()) throw input(`${root} is not a directory`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: EvidenceFile[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) out.push({ from: join(dir, path), to: path });
      // A symlink could point anywhere on the machine that merges; its target is not evidence.
      else throw input(`${join(dir, path)} is not a regular file`);
    }
  };
  walk('evidence');
  return out.sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
}

function readShard(dir: string): Shard {
  const summaryPath = join(dir, 'summary.json');
  let summary: unknown;
  try {
    summary = JSON.parse(readText(summaryPath));
  } catch (e) {
    if (e instanceof HarnessError) throw e;
    throw input(`${summaryPath}: not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(summary) || !isRecord(summary.meta)) throw input(`${summaryPath}: has no "meta" object`);
  const meta = summary.meta;
  const position = shardOf(meta, summaryPath);

  const resultsPath = join(dir, 'results.jsonl');
  const results = readText(resultsPath)
    .split('\n')
    .map((text, i) => ({ text, line: i + 1 }))
    .filter((l) => l.text.trim() !== '')
    .map((l) => parseLine(l.text, `${resultsPath}:${l.line}`));

  const evidence = evidenceOf(dir);
  const present = new Set(evidence.map((e) => e.to));
  for (const r of results) {
    if (r.evidencePath !== undefined && !present.has(r.evidencePath)) {
      throw input(`${resultsPath}: ${runKey(r)} names evidence ${r.evidencePath}, which is not in ${dir}`);
    }
  }

  const profiles = new Set<string>();
  if (Array.isArray(summary.profiles)) for (const p of summary.profiles) profiles.add(String(p));
  if (Array.isArray(meta.candidate))
    for (const c of meta.candidate) if (isRecord(c)) profiles.add(String(c.profile));
  return { dir, meta, position, profiles: [...profiles], results, evidence };
}

/** Meta fields every shard of one run shares. */
const SAME = [
  'harnessVersion',
  'contractVersion',
  'target',
  'seed',
  'filter',
  'faults',
  'tags',
  'evidence',
  'certify',
];

function show(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}

function checkOneRun(shards: readonly Shard[]): void {
  const [first, ...rest] = shards;
  if (!first) return;
  const mismatch = (what: string, a: Shard, av: unknown, b: Shard, bv: unknown) =>
    new HarnessError(
      'HRN_ERR_MERGE_MISMATCH',
      `the shards come from different runs: ${what} is ${show(av)} in ${a.dir} but ${show(bv)} in ${b.dir}`,
    );
  for (const s of rest) {
    for (const k of SAME) {
      const norm = (v: unknown) => JSON.stringify(k === 'faults' && Array.isArray(v) ? [...v].sort() : v);
      if (norm(first.meta[k]) !== norm(s.meta[k])) throw mismatch(k, first, first.meta[k], s, s.meta[k]);
    }
    if (s.position.count !== first.position.count) {
      throw mismatch('the shard count', first, first.position.count, s, s.position.count);
    }
  }
  // The candidate, profile by profile: a shard may list only the profiles it ran.
  const byProfile = new Map<string, { shard: Shard; entry: unknown }>();
  for (const s of shards) {
    for (const entry of Array.isArray(s.meta.candidate) ? s.meta.candidate : []) {
      const profile = isRecord(entry) ? String(entry.profile) : '';
      const seen = byProfile.get(profile);
      if (!seen) byProfile.set(profile, { shard: s, entry });
      else if (JSON.stringify(seen.entry) !== JSON.stringify(entry)) {
        throw mismatch(`the candidate under ${profile}`, seen.shard, seen.entry, s, entry);
      }
    }
  }
}

function checkCoverage(shards: readonly Shard[]): void {
  const count = shards[0]?.position.count ?? 0;
  const at = new Map<number, Shard>();
  for (const s of shards) {
    const other = at.get(s.position.index);
    if (other) {
      throw new HarnessError(
        'HRN_ERR_MERGE_SHARDS',
        `shard ${s.position.index}/${count} is given twice: ${other.dir} and ${s.dir}`,
      );
    }
    at.set(s.position.index, s);
  }
  const missing: string[] = [];
  for (let i = 1; i <= count; i++) if (!at.has(i)) missing.push(`${i}/${count}`);
  if (missing.length > 0) {
    throw new HarnessError(
      'HRN_ERR_MERGE_SHARDS',
      `shard(s) ${missing.join(', ')} missing: give all ${count}`,
    );
  }
}

function profileRank(p: string): number {
  const i = (CRYPTO_PROFILES as readonly string[]).indexOf(p);
  return i < 0 ? CRYPTO_PROFILES.length : i;
}

function byProfileThenKey(a: MergedResult, b: MergedResult): number {
  const d = profileRank(a.profile) - profileRank(b.profile);
  if (d !== 0) return d;
  const ka = runKey(a);
  const kb = runKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function mergeMeta(shards: readonly Shard[], profiles: readonly string[]): MergedMeta {
  const first = shards[0]?.meta ?? {};
  const metas = shards.map((s) => s.meta);
  const candidates = new Map<string, RunMeta['candidate'][number]>();
  for (const m of metas) {
    for (const c of Array.isArray(m.candidate) ? m.candidate : []) {
      if (isRecord(c)) candidates.set(String(c.profile), c as unknown as RunMeta['candidate'][number]);
    }
  }
  const strings = (k: string) => metas.map((m) => m[k]).filter((v): v is string => typeof v === 'string');
  const started = strings('startedAt').sort();
  const finished = strings('finishedAt').sort();
  const { shard: _shard, ...rest } = first;
  return {
    ...(rest as unknown as RunMeta),
    candidate: [...candidates.entries()]
      .sort(([a], [b]) => profileRank(a) - profileRank(b) || profiles.indexOf(a) - profiles.indexOf(b))
      .map(([, c]) => c),
    node: [...new Set(strings('node'))].join(', '),
    startedAt: started[0] ?? '',
    // A shard that did not finish leaves the merged run unfinished too.
    ...(finished.length === metas.length
      ? { finishedAt: finished[finished.length - 1] }
      : { finishedAt: undefined }),
    partial: metas.some((m) => m.partial !== false),
    ...(metas.some((m) => m.interrupted === true) ? { interrupted: true } : {}),
    shards: shards.length,
  };
}

/**
 * Reads each shard directory (summary.json meta, results.jsonl, evidence/), checks they are the
 * shards of one run and that each run appears once, and returns one run: the results in
 * unsharded order, the merged meta and the evidence files to copy.
 */
export function mergeRuns(dirs: readonly string[], opts: MergeOptions = {}): MergedRun {
  if (dirs.length === 0) throw new HarnessError('HRN_ERR_USAGE', 'merge needs at least one shard directory');
  const seenDirs = new Set<string>();
  for (const d of dirs) {
    const abs = resolve(d);
    if (seenDirs.has(abs)) throw new HarnessError('HRN_ERR_MERGE_SHARDS', `${d} is given twice`);
    seenDirs.add(abs);
  }
  const shards = dirs.map(readShard);
  checkOneRun(shards);
  checkCoverage(shards);

  const owner = new Map<string, Shard>();
  for (const s of shards) {
    for (const r of s.results) {
      const key = runKey(r);
      const other = owner.get(key);
      if (other) {
        throw new HarnessError(
          'HRN_ERR_MERGE_SHARDS',
          other === s
            ? `${key} appears twice in ${s.dir}`
            : `${key} appears in two shards: ${other.dir} and ${s.dir}`,
        );
      }
      owner.set(key, s);
    }
  }
  const evidenceFiles: EvidenceFile[] = [];
  const evidenceOwner = new Map<string, Shard>();
  for (const s of shards) {
    for (const e of s.evidence) {
      const other = evidenceOwner.get(e.to);
      if (other) {
        throw new HarnessError('HRN_ERR_MERGE_SHARDS', `${e.to} is in two shards: ${other.dir} and ${s.dir}`);
      }
      evidenceOwner.set(e.to, s);
      evidenceFiles.push(e);
    }
  }

  const rank = new Map((opts.order ?? []).map((k, i) => [k, i]));
  const results = shards
    .flatMap((s) => s.results)
    .sort((a, b) => {
      const ra = rank.get(runKey(a));
      const rb = rank.get(runKey(b));
      if (ra !== undefined && rb !== undefined) return ra - rb;
      if (ra !== undefined) return -1;
      if (rb !== undefined) return 1;
      return byProfileThenKey(a, b);
    });

  const profiles = [...new Set(shards.flatMap((s) => s.profiles))].sort(
    (a, b) => profileRank(a) - profileRank(b) || (a < b ? -1 : a > b ? 1 : 0),
  ) as CryptoProfileId[];
  return {
    results,
    meta: mergeMeta(shards, profiles),
    profiles,
    evidenceFiles: evidenceFiles.sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0)),
  };
}

/** A results.jsonl line of a merged result: as its shard wrote it, without the empty evidence. */
export function resultLine(r: MergedResult): string {
  const { evidence: _evidence, ...line } = r;
  return JSON.stringify(line);
}
