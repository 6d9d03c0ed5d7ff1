// Signing a run directory and checking it. `signRun` writes DIR/signature.json: a DSSE envelope
// (Ed25519) over the canonical in-toto statement of harness/report/statement.ts, with the public
// key. `verifyRun` checks the signature, then compares the directory with the statement and
// names every file that changed, went missing or appeared. docs/SIGNING.md is the reviewer's
// view of the same.

import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { HarnessError } from '../codes.ts';
import { createAjv } from '../schema/ajv.ts';
import { canonicalJson } from './canonical-json.ts';
import type { DsseEnvelope } from './dsse.ts';
import { decodeBase64, IN_TOTO_PAYLOAD_TYPE, signEnvelope, verifyEnvelope } from './dsse.ts';
import { listRunFiles, SIGNATURE_FILE, sha256File } from './run-files.ts';
import type { KeyOptions, KeySource } from './signing-key.ts';
import { keyIdOf, loadSigningKey, normaliseKeyId, parsePublicKey } from './signing-key.ts';
import type { RunConfiguration, Statement, TestResult } from './statement.ts';
import { buildStatement } from './statement.ts';

export { SIGNATURE_FILE } from './run-files.ts';
export type { RunConfiguration, Statement, TestResult } from './statement.ts';

export interface SignatureFile {
  readonly version: 1;
  readonly publicKey: { readonly algorithm: 'ed25519'; readonly keyId: string; readonly pem: string };
  readonly envelope: DsseEnvelope;
}

export interface SignOptions extends KeyOptions {
  /** What the statement says about the run, field by field over what summary.json says. */
  readonly configuration?: RunConfiguration;
}

export interface SignedRun {
  readonly file: SignatureFile;
  readonly statement: Statement;
  readonly keySource: KeySource;
  /** The key file used, when there was one (the installation key's path is worth printing once). */
  readonly keyPath?: string;
}

export const SIGNATURE_SCHEMA_PATH = new URL('../../schemas/report/signature.schema.json', import.meta.url);

/** Signs DIR as it is now and writes DIR/signature.json atomically. Returns what it wrote. */
export function signRunDetailed(dir: string, opts: SignOptions = {}): SignedRun {
  const key = loadSigningKey(opts);
  const statement = buildStatement(dir, opts.configuration);
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  const file: SignatureFile = {
    version: 1,
    publicKey: { algorithm: 'ed25519', keyId: key.keyId, pem: key.publicKeyPem },
    envelope: signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, key.privateKey, key.keyId),
  };
  const path = join(dir, SIGNATURE_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
    renameSync(tmp, path);
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
  return { file, statement, keySource: key.source, ...(key.path ? { keyPath: key.path } : {}) };
}

/** Signs DIR as it is now and writes DIR/signature.json atomically. */
export function signRun(dir: string, opts: SignOptions = {}): SignatureFile {
  return signRunDetailed(dir, opts).file;
}

// ---- verification ------------------------------------------------------------------------------

export type VerifyProblem =
  /** signature.json or its statement cannot be read as what it claims to be. */
  | { readonly kind: 'malformed'; readonly message: string }
  /** The envelope's signature does not verify: the statement was altered or re-signed badly. */
  | { readonly kind: 'signature-invalid'; readonly message: string }
  /** Signed by another key than the one the reviewer pinned. */
  | { readonly kind: 'key-mismatch'; readonly expected: string; readonly actual: string }
  | { readonly kind: 'changed'; readonly file: string; readonly expected: string; readonly actual: string }
  | { readonly kind: 'missing'; readonly file: string; readonly expected: string }
  | { readonly kind: 'added'; readonly file: string; readonly actual: string }
  /** A symlink or other non-file the statement cannot cover. */
  | { readonly kind: 'unsupported'; readonly file: string };

export interface VerifyResult {
  readonly ok: boolean;
  readonly dir: string;
  /** The key id signature.json names (null when the file is malformed). */
  readonly keyId: string | null;
  /** True when the caller pinned a key and the signature is by that key. */
  readonly pinned: boolean;
  readonly result: TestResult | null;
  readonly statement: Statement | null;
  readonly problems: readonly VerifyProblem[];
}

export interface VerifyOptions {
  /** The public key the run must be signed with: PEM text (SPKI, or a private key's PEM) or a KeyObject. */
  readonly publicKey?: string | KeyObject;
  /** The key id the run must be signed with (hex SHA-256 of the SPKI; `sha256:` prefix accepted). */
  readonly keyId?: string;
}

interface Validators {
  readonly file: ValidateFunction;
  readonly statement: ValidateFunction;
}
let validators: Validators | undefined;

function schemaValidators(): Validators {
  if (!validators) {
    const schema = JSON.parse(readFileSync(SIGNATURE_SCHEMA_PATH, 'utf8')) as { $id: string };
    try {
      const ajv = createAjv();
      ajv.addSchema(schema);
      const file = ajv.getSchema(schema.$id);
      const statement = ajv.getSchema(`${schema.$id}#/$defs/statement`);
      if (!file || !statement) throw new Error('schema not registered');
      validators = { file, statement };
    } catch (err) {
      throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `${SIGNATURE_SCHEMA_PATH.pathname}: ${String(err)}`, {
        cause: err,
      });
    }
  }
  return validators;
}

function schemaErrors(v: ValidateFunction): string {
  return (v.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim())
    .join('; ');
}

function pinnedKeyId(opts: VerifyOptions): string | undefined {
  const ids = new Set<string>();
  if (opts.publicKey !== undefined) {
    const key =
      typeof opts.publicKey === 'string'
        ? parsePublicKey(opts.publicKey, 'the pinned public key')
        : opts.publicKey;
    ids.add(keyIdOf(key.type === 'private' ? createPublicKey(key) : key));
  }
  if (opts.keyId !== undefined) ids.add(normaliseKeyId(opts.keyId));
  if (ids.size > 1) {
    throw new HarnessError('HRN_ERR_USAGE', 'the pinned public key and the pinned key id are different keys');
  }
  return [...ids][0];
}

function readSignatureFile(dir: string): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `cannot read ${dir}: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) throw new HarnessError('HRN_ERR_IO', `${dir} is not a directory`);
  const path = join(dir, SIGNATURE_FILE);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new HarnessError(
      'HRN_ERR_IO',
      missing
        ? `${dir} has no ${SIGNATURE_FILE}: the run was not signed`
        : `cannot read ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * Checks DIR against its signature.json. Throws HarnessError only when there is nothing to check
 * (no such directory, no signature.json); every other finding is a problem in the result.
 */
export function verifyRun(dir: string, opts: VerifyOptions = {}): VerifyResult {
  const expectedKey = pinnedKeyId(opts);
  const text = readSignatureFile(dir);
  const problems: VerifyProblem[] = [];
  // The pin holds when a key was pinned and the signature verifies under exactly that key,
  // whatever else differs in the files.
  const pinHolds = () =>
    expectedKey !== undefined &&
    !problems.some(
      (p) => p.kind === 'malformed' || p.kind === 'key-mismatch' || p.kind === 'signature-invalid',
    );
  const done = (keyId: string | null, statement: Statement | null): VerifyResult => ({
    ok: problems.length === 0,
    dir,
    keyId,
    pinned: keyId !== null && pinHolds(),
    result: statement?.predicate.result ?? null,
    statement,
    problems,
  });

  let file: SignatureFile;
  try {
    file = JSON.parse(text) as SignatureFile;
  } catch (e) {
    problems.push({ kind: 'malformed', message: `${SIGNATURE_FILE} is not JSON: ${(e as Error).message}` });
    return done(null, null);
  }
  const v = schemaValidators();
  if (!v.file(file)) {
    problems.push({
      kind: 'malformed',
      message: `${SIGNATURE_FILE} breaks its schema: ${schemaErrors(v.file)}`,
    });
    return done(null, null);
  }

  // The key in the file: its id must be the one it declares, or the pin below could be fooled.
  let embedded: KeyObject;
  try {
    embedded = parsePublicKey(file.publicKey.pem, 'the public key in signature.json');
  } catch (e) {
    problems.push({ kind: 'malformed', message: (e as Error).message.replace(/^HRN_ERR_USAGE: /, '') });
    return done(null, null);
  }
  const keyId = keyIdOf(embedded);
  if (keyId !== file.publicKey.keyId) {
    problems.push({
      kind: 'malformed',
      message: `publicKey.keyId ${file.publicKey.keyId} is not the id of the public key beside it (${keyId})`,
    });
    return done(null, null);
  }
  if (expectedKey !== undefined && expectedKey !== keyId) {
    problems.push({ kind: 'key-mismatch', expected: expectedKey, actual: keyId });
  }
  if (!verifyEnvelope(file.envelope, embedded, keyId)) {
    problems.push({
      kind: 'signature-invalid',
      message: 'the signature does not match the statement: signature.json was altered after signing',
    });
  }

  // The statement. When the signature failed it cannot be trusted, but comparing the files with
  // it still tells a reviewer what else differs.
  const payload = decodeBase64(file.envelope.payload);
  let statement: Statement;
  try {
    statement = JSON.parse(payload?.toString('utf8') ?? '') as Statement;
  } catch {
    problems.push({ kind: 'malformed', message: 'the signed payload is not JSON' });
    return done(keyId, null);
  }
  if (!v.statement(statement)) {
    problems.push({
      kind: 'malformed',
      message: `the statement breaks its schema: ${schemaErrors(v.statement)}`,
    });
    return done(keyId, null);
  }
  const expected = new Map<string, string>();
  for (const s of statement.subject) {
    if (s.name === SIGNATURE_FILE || expected.has(s.name)) {
      problems.push({ kind: 'malformed', message: `the statement lists ${s.name} twice or covers itself` });
      return done(keyId, statement);
    }
    expected.set(s.name, s.digest.sha256);
  }

  let actual: ReturnType<typeof listRunFiles>;
  try {
    actual = listRunFiles(dir);
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `cannot list ${dir}: ${(e as Error).message}`, { cause: e });
  }
  for (const name of actual.files) {
    let digest: string;
    try {
      digest = sha256File(dir, name);
    } catch (e) {
      throw new HarnessError('HRN_ERR_IO', `cannot read ${join(dir, name)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const want = expected.get(name);
    if (want === undefined) problems.push({ kind: 'added', file: name, actual: digest });
    else if (want !== digest) problems.push({ kind: 'changed', file: name, expected: want, actual: digest });
  }
  const present = new Set(actual.files);
  for (const name of actual.others) {
    if (expected.has(name)) present.add(name);
    problems.push({ kind: 'unsupported', file: name });
  }
  for (const [name, digest] of expected) {
    if (!present.has(name)) problems.push({ kind: 'missing', file: name, expected: digest });
  }
  return done(keyId, statement);
}
