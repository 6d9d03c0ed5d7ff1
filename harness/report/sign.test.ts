import { generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { canonicalJson } from './canonical-json.ts';
import { pae } from './dsse.ts';
import { sha256Hex } from './run-files.ts';
import type { SignatureFile } from './sign.ts';
import { signRun, signRunDetailed, verifyRun } from './sign.ts';
import { installationHome, KEY_FILE_NAME, loadSigningKey } from './signing-key.ts';
import type { Statement } from './statement.ts';
import { resultOf } from './statement.ts';

const root = mkdtempSync(join(tmpdir(), 'sign-'));
let serial = 0;
const fresh = (name: string) => {
  const d = join(root, `${name}-${++serial}`);
  mkdirSync(d, { recursive: true });
  return d;
};

/** Every test gets its own key home: never the real one. */
const envFor = (home: string) => ({ INTEROP_CERT_HOME: home });

const MANIFEST_SHA = 'ab'.repeat(32);

const summary = (over: Record<string, unknown> = {}) => ({
  meta: {
    harnessVersion: '9.9.9',
    contractVersion: '1.0',
    candidate: [
      { name: 'reference', version: '1.2.3', profile: 'signal-pqxdh', manifestSha256: MANIFEST_SHA },
    ],
    seed: '42',
    filter: 'E2EE-*',
    faults: ['skip-padding'],
    node: 'v20.19.0',
    partial: false,
  },
  counts: { PASS: 1, FAIL: 1, NON_STRICT: 1, INFORMATIONAL: 1, NOT_APPLICABLE: 1, TIMEOUT: 0, ERROR: 0 },
  certification: {
    certified: false,
    reasons: ['1 MUST requirement(s) failed: REQ-E2EE-001'],
    mustTotal: 3,
    mustPassed: 2,
  },
  waivers: {
    sha256: `sha256:${'cd'.repeat(32)}`,
    entries: [{ scenario: 'E2EE-X-001', reason: 'known', owner: 'a', expires: '2099-01-01' }],
  },
  ...over,
});

const results = [
  { id: 'E2EE-A-001', variant: 'default', profile: 'signal-pqxdh', outcome: 'PASS' },
  { id: 'E2EE-B-002', variant: 'default', profile: 'signal-pqxdh', outcome: 'FAIL' },
  { id: 'E2EE-C-003', variant: 'long', profile: 'signal-pqxdh', outcome: 'NON_STRICT' },
  { id: 'E2EE-D-004', variant: 'default', profile: 'signal-pqxdh', outcome: 'INFORMATIONAL' },
  { id: 'E2EE-E-005', variant: 'default', profile: 'signal-pqxdh', outcome: 'NOT_APPLICABLE' },
];

/** A synthetic run directory with a file of each kind a run writes, one of them nested. */
function makeRun(over: Record<string, unknown> = {}): string {
  const dir = fresh('run');
  writeFileSync(join(dir, 'results.jsonl'), `${results.map((r) => JSON.stringify(r)).join('\n')}\n`);
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary(over), null, 2)}\n`);
  writeFileSync(join(dir, 'compliance.md'), '# Compliance report\n\n**Verdict: NOT CERTIFIED**\n');
  writeFileSync(join(dir, 'junit.xml'), '<testsuites tests="5" failures="1"/>\n');
  mkdirSync(join(dir, 'evidence', 'E2EE-B-002'), { recursive: true });
  writeFileSync(join(dir, 'evidence', 'E2EE-B-002', 'default.signal-pqxdh.wire.jsonl'), '{"dir":"c2s"}\n');
  mkdirSync(join(dir, 'allure-results'));
  writeFileSync(join(dir, 'allure-results', 'x-result.json'), '{}');
  return dir;
}

const FILES = [
  'allure-results/x-result.json',
  'compliance.md',
  'evidence/E2EE-B-002/default.signal-pqxdh.wire.jsonl',
  'junit.xml',
  'results.jsonl',
  'summary.json',
];

function readSignature(dir: string): SignatureFile {
  return JSON.parse(readFileSync(join(dir, 'signature.json'), 'utf8')) as SignatureFile;
}

function writeSignature(dir: string, file: SignatureFile): void {
  writeFileSync(join(dir, 'signature.json'), JSON.stringify(file));
}

function statementOf(file: SignatureFile): Statement {
  return JSON.parse(Buffer.from(file.envelope.payload, 'base64').toString('utf8')) as Statement;
}

function signed(over: Record<string, unknown> = {}) {
  const dir = makeRun(over);
  const home = fresh('home');
  const file = signRun(dir, { env: envFor(home) });
  return { dir, home, file };
}

describe('signRun', () => {
  it('writes a signature whose statement covers every file but itself, sorted, with digests', () => {
    const { dir, file } = signed();
    expect(readSignature(dir)).toEqual(file);
    const st = statementOf(file);
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.predicateType).toBe('https://in-toto.io/attestation/test-result/v0.1');
    expect(st.subject.map((s) => s.name)).toEqual(FILES);
    for (const s of st.subject) expect(s.digest.sha256).toBe(sha256Hex(readFileSync(join(dir, s.name))));
    expect(file.envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(file.envelope.signatures).toEqual([{ keyid: file.publicKey.keyId, sig: expect.any(String) }]);
    expect(file.publicKey.pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('signs the canonical JSON of the statement', () => {
    const { file } = signed();
    const payload = Buffer.from(file.envelope.payload, 'base64').toString('utf8');
    expect(payload).toBe(canonicalJson(JSON.parse(payload)));
  });

  it('records the verdict, the tests by outcome and the run configuration', () => {
    const st = statementOf(signed().file);
    expect(st.predicate.result).toBe('FAILED');
    expect(st.predicate.passedTests).toEqual(['E2EE-A-001 default signal-pqxdh']);
    expect(st.predicate.warnedTests).toEqual(['E2EE-C-003 long signal-pqxdh']);
    expect(st.predicate.failedTests).toEqual(['E2EE-B-002 default signal-pqxdh']);
    const byName = Object.fromEntries(st.predicate.configuration.map((c) => [c.name, c]));
    expect(byName.harness).toEqual({
      name: 'harness',
      uri: 'pkg:npm/interop-cert@9.9.9',
      annotations: { harnessVersion: '9.9.9', driverContractVersion: '1.0', node: 'v20.19.0' },
    });
    expect(byName['candidate-manifest']).toEqual({
      name: 'candidate-manifest',
      digest: { sha256: MANIFEST_SHA },
      annotations: { name: 'reference', version: '1.2.3', profile: 'signal-pqxdh' },
    });
    expect(byName['run-parameters']?.annotations).toEqual({
      seed: '42',
      filter: 'E2EE-*',
      faults: ['skip-padding'],
      partial: false,
    });
    expect(byName.waivers?.digest).toEqual({ sha256: 'cd'.repeat(32) });
    expect(byName.waivers?.annotations?.entries).toHaveLength(1);
    expect(byName.certification?.annotations).toMatchObject({
      certified: false,
      mustPassed: 2,
      mustTotal: 3,
    });
  });

  it('tolerates a summary without meta or waivers, and says there were no waivers', () => {
    const dir = makeRun({ meta: undefined, waivers: undefined });
    const st = statementOf(signRun(dir, { env: envFor(fresh('home')) }));
    const byName = Object.fromEntries(st.predicate.configuration.map((c) => [c.name, c]));
    expect(byName.harness?.annotations?.harnessVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(byName['candidate-manifest']).toBeUndefined();
    expect(byName.waivers).toEqual({
      name: 'waivers',
      uri: 'urn:interop-cert:waivers:none',
      annotations: { entries: [] },
    });
    expect(verifyRun(dir).ok).toBe(true);
  });

  it('takes what the run passes over what summary.json says, and hashes a waivers file', () => {
    const dir = makeRun();
    const waivers = join(fresh('w'), 'waivers.yml');
    writeFileSync(waivers, 'waivers: []\n');
    const st = statementOf(
      signRun(dir, {
        env: envFor(fresh('home')),
        configuration: { seed: '7', waivers: { path: waivers, entries: [] } },
      }),
    );
    const byName = Object.fromEntries(st.predicate.configuration.map((c) => [c.name, c]));
    expect(byName['run-parameters']?.annotations?.seed).toBe('7');
    expect(byName.waivers?.digest).toEqual({ sha256: sha256Hex('waivers: []\n') });
  });

  it('gives the same signature for the same directory and key', () => {
    const { dir, home, file } = signed();
    expect(signRun(dir, { env: envFor(home) })).toEqual(file);
  });

  it('refuses a directory without summary.json and one holding a symlink', () => {
    const dir = makeRun();
    unlinkSync(join(dir, 'summary.json'));
    expect(() => signRun(dir, { env: envFor(fresh('home')) })).toThrow(
      /HRN_ERR_IO: cannot read .*summary\.json/,
    );
    const dir2 = makeRun();
    symlinkSync('/etc/hostname', join(dir2, 'evidence', 'link'));
    expect(() => signRun(dir2, { env: envFor(fresh('home')) })).toThrow(
      /evidence\/link is not a regular file/,
    );
  });
});

describe('resultOf', () => {
  const certified = { certification: { certified: true }, counts: { PASS: 3 } };
  it('is PASSED only for a finished, certified run without failures', () => {
    expect(resultOf(certified)).toBe('PASSED');
    expect(resultOf({ ...certified, counts: { PASS: 3, NON_STRICT: 1 } })).toBe('WARNED');
    expect(resultOf({ ...certified, counts: { PASS: 3, ERROR: 1 } })).toBe('FAILED');
    expect(resultOf({ ...certified, counts: { PASS: 3, TIMEOUT: 1 } })).toBe('FAILED');
    expect(resultOf({ ...certified, meta: { partial: true } })).toBe('FAILED');
    expect(resultOf({ certification: { certified: false }, counts: { PASS: 3 } })).toBe('FAILED');
    expect(resultOf({})).toBe('FAILED');
  });
});

describe('verifyRun', () => {
  it('verifies an untouched run and reports its verdict and key', () => {
    const { dir, file } = signed();
    const r = verifyRun(dir);
    expect(r).toMatchObject({
      ok: true,
      keyId: file.publicKey.keyId,
      pinned: false,
      result: 'FAILED',
      problems: [],
    });
  });

  it('names exactly the file whose byte changed, with both digests, for each file in turn', () => {
    const { dir } = signed();
    for (const name of FILES) {
      const path = join(dir, name);
      const original = readFileSync(path);
      const flipped = Buffer.from(original);
      flipped[0] = (flipped[0] ?? 0) ^ 0x01;
      writeFileSync(path, flipped);
      const r = verifyRun(dir);
      expect(r.ok, name).toBe(false);
      expect(r.problems, name).toEqual([
        { kind: 'changed', file: name, expected: sha256Hex(original), actual: sha256Hex(flipped) },
      ]);
      writeFileSync(path, original);
      expect(verifyRun(dir).ok, name).toBe(true);
    }
  });

  it('names a deleted file and an added one', () => {
    const { dir } = signed();
    const gone = 'evidence/E2EE-B-002/default.signal-pqxdh.wire.jsonl';
    const before = sha256Hex(readFileSync(join(dir, gone)));
    unlinkSync(join(dir, gone));
    writeFileSync(join(dir, 'evidence', 'extra.txt'), 'x');
    expect(verifyRun(dir).problems).toEqual([
      { kind: 'added', file: 'evidence/extra.txt', actual: sha256Hex('x') },
      { kind: 'missing', file: gone, expected: before },
    ]);
  });

  it('reports a symlink where a file was', () => {
    const { dir } = signed();
    unlinkSync(join(dir, 'junit.xml'));
    symlinkSync(join(dir, 'compliance.md'), join(dir, 'junit.xml'));
    expect(verifyRun(dir).problems).toEqual([{ kind: 'unsupported', file: 'junit.xml' }]);
  });

  it('refuses a statement edited after signing, even when it matches the files', () => {
    const { dir, file } = signed();
    const st = statementOf(file);
    // Pass the run off as certified, and cover a changed compliance.md with its new digest.
    writeFileSync(join(dir, 'compliance.md'), '**Verdict: CERTIFIED**\n');
    const forged: Statement = {
      ...st,
      subject: st.subject.map((s) =>
        s.name === 'compliance.md'
          ? { name: s.name, digest: { sha256: sha256Hex('**Verdict: CERTIFIED**\n') } }
          : s,
      ),
      predicate: { ...st.predicate, result: 'PASSED' },
    };
    writeSignature(dir, {
      ...file,
      envelope: { ...file.envelope, payload: Buffer.from(canonicalJson(forged)).toString('base64') },
    });
    const r = verifyRun(dir);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.kind)).toEqual(['signature-invalid']);
  });

  it('refuses a changed signature and a changed payload type', () => {
    const { dir, file } = signed();
    const sig = Buffer.from(file.envelope.signatures[0]?.sig ?? '', 'base64');
    sig[10] = (sig[10] ?? 0) ^ 0x80;
    writeSignature(dir, {
      ...file,
      envelope: {
        ...file.envelope,
        signatures: [{ keyid: file.publicKey.keyId, sig: sig.toString('base64') }],
      },
    });
    expect(verifyRun(dir).problems.map((p) => p.kind)).toEqual(['signature-invalid']);
    writeSignature(dir, { ...file, envelope: { ...file.envelope, payloadType: 'application/json' } });
    expect(verifyRun(dir).problems.map((p) => p.kind)).toEqual(['malformed']);
  });

  it('refuses a key swapped in beside the old key id', () => {
    const { dir, file } = signed();
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeSignature(dir, { ...file, publicKey: { ...file.publicKey, pem: other } });
    const r = verifyRun(dir);
    expect(r.problems).toEqual([
      { kind: 'malformed', message: expect.stringMatching(/not the id of the public key/) },
    ]);
  });

  it('accepts a run re-signed by another key unless the key is pinned', () => {
    const { dir, home, file } = signed();
    const original = loadSigningKey({ env: envFor(home) });
    // Whoever edits the files can re-sign them with a key of their own: integrity holds ...
    writeFileSync(join(dir, 'compliance.md'), '**Verdict: CERTIFIED**\n');
    const forged = signRun(dir, { env: envFor(fresh('home')) });
    expect(forged.publicKey.keyId).not.toBe(file.publicKey.keyId);
    expect(verifyRun(dir).ok).toBe(true);
    // ... and only the pinned key tells the two apart.
    const pinned = verifyRun(dir, { publicKey: original.publicKeyPem });
    expect(pinned.ok).toBe(false);
    expect(pinned.pinned).toBe(false);
    expect(pinned.problems).toEqual([
      { kind: 'key-mismatch', expected: file.publicKey.keyId, actual: forged.publicKey.keyId },
    ]);
    expect(verifyRun(dir, { keyId: file.publicKey.keyId }).problems.map((p) => p.kind)).toEqual([
      'key-mismatch',
    ]);
  });

  it('accepts the pinned key as PEM, private PEM, or key id with a sha256: prefix', () => {
    const { dir, home, file } = signed();
    const key = loadSigningKey({ env: envFor(home) });
    const pem = readFileSync(join(home, KEY_FILE_NAME), 'utf8');
    for (const opts of [
      { publicKey: key.publicKeyPem },
      { publicKey: pem },
      { publicKey: key.publicKey },
      { keyId: `sha256:${file.publicKey.keyId.toUpperCase()}` },
    ]) {
      expect(verifyRun(dir, opts)).toMatchObject({ ok: true, pinned: true });
    }
    // The pin is about who signed: it still holds when a file changed.
    writeFileSync(join(dir, 'junit.xml'), '<testsuites/>');
    expect(verifyRun(dir, { keyId: file.publicKey.keyId })).toMatchObject({ ok: false, pinned: true });
    expect(verifyRun(dir)).toMatchObject({ ok: false, pinned: false });
    expect(() => verifyRun(dir, { publicKey: key.publicKeyPem, keyId: '00'.repeat(32) })).toThrow(
      /HRN_ERR_USAGE/,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect(() => verifyRun(dir, { publicKey: rsa.toString() })).toThrow(/not Ed25519/);
  });

  it('reports a signature file that is not JSON or breaks its schema', () => {
    const { dir, file } = signed();
    writeFileSync(join(dir, 'signature.json'), '{');
    expect(verifyRun(dir).problems.map((p) => p.kind)).toEqual(['malformed']);
    writeSignature(dir, { ...file, version: 2 as 1 });
    expect(verifyRun(dir).problems).toEqual([
      { kind: 'malformed', message: expect.stringMatching(/schema/) },
    ]);
  });

  it('throws a harness error when there is nothing to verify', () => {
    const dir = makeRun();
    expect(() => verifyRun(dir)).toThrow(HarnessError);
    expect(() => verifyRun(dir)).toThrow(/HRN_ERR_IO: .* has no signature\.json/);
    expect(() => verifyRun(join(dir, 'nope'))).toThrow(/HRN_ERR_IO/);
    expect(() => verifyRun(join(dir, 'summary.json'))).toThrow(/not a directory/);
  });
});

describe('DSSE and canonical JSON', () => {
  it('encodes PAE as the DSSE specification does', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    // Lengths count bytes, not characters.
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });

  it('sorts members, drops undefined members and refuses what JSON cannot carry', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x', { d: 1e21, c: 0.5 }], e: undefined })).toBe(
      '{"a":[true,null,"x",{"c":0.5,"d":1e+21}],"b":1}',
    );
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3, ö: 4 })).toBe(
      '{"\\r":2,"ö":4,"€":1,"😀":3}',
    );
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/finite/);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson({ a: new Date(0) })).toThrow(/plain object/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
  });
});

describe('signing keys', () => {
  it('creates the installation key once, mode 0600, and reuses it', () => {
    const home = join(fresh('home'), 'nested', 'interop-cert');
    const first = signRunDetailed(makeRun(), { env: envFor(home) });
    expect(first.keySource).toBe('installation');
    expect(first.keyPath).toBe(join(home, KEY_FILE_NAME));
    if (process.platform !== 'win32') {
      expect(statSync(join(home, KEY_FILE_NAME)).mode & 0o777).toBe(0o600);
    }
    const second = signRun(makeRun(), { env: envFor(home) });
    expect(second.publicKey.keyId).toBe(first.file.publicKey.keyId);
  });

  it('finds the installation home from INTEROP_CERT_HOME, XDG_CONFIG_HOME, then HOME', () => {
    expect(installationHome({ INTEROP_CERT_HOME: '/a', XDG_CONFIG_HOME: '/b', HOME: '/c' })).toBe('/a');
    expect(installationHome({ XDG_CONFIG_HOME: '/b', HOME: '/c' })).toBe(join('/b', 'interop-cert'));
    expect(installationHome({ HOME: '/c' })).toBe(join('/c', '.config', 'interop-cert'));
  });

  it('prefers --key, then INTEROP_CERT_KEY (PEM or path), to the installation key', () => {
    const home = fresh('home');
    const dir = fresh('keys');
    const pemOf = () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const a = join(dir, 'a.pem');
    const b = join(dir, 'b.pem');
    writeFileSync(a, pemOf());
    writeFileSync(b, pemOf());
    const envPem = pemOf();
    const id = (opts: Parameters<typeof loadSigningKey>[0]) => loadSigningKey(opts).keyId;
    const ids = [
      id({ keyPath: a, env: { INTEROP_CERT_KEY: b, INTEROP_CERT_HOME: home } }),
      id({ env: { INTEROP_CERT_KEY: b, INTEROP_CERT_HOME: home } }),
      id({ env: { INTEROP_CERT_KEY: envPem, INTEROP_CERT_HOME: home } }),
      id({ env: { INTEROP_CERT_HOME: home } }),
    ];
    expect(new Set(ids).size).toBe(4);
    expect(loadSigningKey({ keyPath: a }).source).toBe('path');
    expect(loadSigningKey({ env: { INTEROP_CERT_KEY: envPem } }).source).toBe('env');
  });

  it('refuses a missing, unreadable or non-Ed25519 key with HRN_ERR_SIGNING_KEY', () => {
    const dir = fresh('keys');
    const rsa = join(dir, 'rsa.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    expect(() => loadSigningKey({ keyPath: rsa })).toThrow(/HRN_ERR_SIGNING_KEY: .* is a rsa key/);
    expect(() => loadSigningKey({ keyPath: join(dir, 'none.pem') })).toThrow(
      /HRN_ERR_SIGNING_KEY: cannot read/,
    );
    writeFileSync(join(dir, 'junk.pem'), 'not a key');
    expect(() => loadSigningKey({ keyPath: join(dir, 'junk.pem') })).toThrow(/HRN_ERR_SIGNING_KEY/);
    if (process.platform !== 'win32' && process.getuid?.() !== 0) {
      const locked = fresh('locked');
      chmodSync(locked, 0o500);
      try {
        expect(() => loadSigningKey({ env: envFor(join(locked, 'home')) })).toThrow(
          /HRN_ERR_SIGNING_KEY: cannot create/,
        );
      } finally {
        chmodSync(locked, 0o700);
      }
    }
  });
});

process.on('exit', () => rmSync(root, { recursive: true, force: true }));
