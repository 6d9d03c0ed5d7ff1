import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';

function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(['node', 'interop-cert', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return code.then((c) => ({ code: c, out: out.join('\n'), err: err.join('\n') }));
}

const PHOTO = fileURLToPath(new URL('../../fixtures/media/photo.jpg', import.meta.url));
const KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const KEY_B64 = Buffer.from(KEY_HEX, 'hex').toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'media-cli-'));
const at = (name: string) => join(dir, name);

interface Pair {
  hex: string;
  base64: string;
}
interface EncryptOutput {
  type: string;
  uploadType: string;
  mimetype: string;
  mediaKey: Pair;
  fileSha256: Pair;
  fileEncSha256: Pair;
  fileLength: number;
  uploadToken: string;
}

async function encrypt(type: string, input: string, out: string, ...extra: string[]): Promise<EncryptOutput> {
  const r = await run('media', 'encrypt', '--type', type, '--in', input, '--out', out, ...extra);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as EncryptOutput;
}

function decryptArgs(e: EncryptOutput, blob: string, out: string): string[] {
  return [
    'media',
    'decrypt',
    '--type',
    e.type,
    '--media-key',
    e.mediaKey.hex,
    '--file-enc-sha256',
    e.fileEncSha256.base64,
    '--file-sha256',
    e.fileSha256.hex,
    '--file-length',
    String(e.fileLength),
    '--in',
    blob,
    '--out',
    out,
  ];
}

describe('interop-cert media encrypt', () => {
  it('writes the blob and prints the message fields, deterministic under a given key', async () => {
    const e = await encrypt('image', PHOTO, at('photo.enc'), '--media-key', KEY_HEX);
    const photo = readFileSync(PHOTO);
    const blob = readFileSync(at('photo.enc'));
    expect(e).toMatchObject({
      type: 'image',
      uploadType: 'image',
      mimetype: 'image/jpeg',
      mediaKey: { hex: KEY_HEX, base64: KEY_B64 },
      fileLength: photo.length,
    });
    expect(blob.length).toBe((Math.floor(photo.length / 16) + 1) * 16 + 10);
    expect(Buffer.from(e.fileEncSha256.base64, 'base64').toString('hex')).toBe(e.fileEncSha256.hex);
    expect(Buffer.from(e.uploadToken, 'base64url').toString('hex')).toBe(e.fileEncSha256.hex);
    expect(e.uploadToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The same key gives the same blob; the key may also be given in base64.
    const again = await encrypt('image', PHOTO, at('photo2.enc'), '--media-key', KEY_B64);
    expect(again).toEqual(e);
    expect(readFileSync(at('photo2.enc')).equals(blob)).toBe(true);
  });

  it('gives the output of the worked example in docs/MEDIA.md', async () => {
    const pdf = fileURLToPath(new URL('../../fixtures/media/document.pdf', import.meta.url));
    const e = await encrypt('document', pdf, at('document.enc'), '--media-key', KEY_HEX);
    expect(e.fileSha256.hex).toBe('1eb113830daca7ad28d6fa4616833c4f22bacb080ddc8bcf78fcbf59a7921004');
    expect(e.fileEncSha256.hex).toBe('ee526c3800f097928734a31222fa4c7eec74f7ffee29430c3e7a9355e4109b29');
    expect(e.uploadToken).toBe('7lJsOADwl5KHNKMSIvpMfux09__uKUMMPnqTVeQQmyk');
    expect(readFileSync(at('document.enc'))).toHaveLength(858);
  });

  it('draws a fresh key when none is given', async () => {
    const a = await encrypt('sticker', PHOTO, at('s1.enc'));
    const b = await encrypt('sticker', PHOTO, at('s2.enc'));
    expect(a.mimetype).toBe('image/webp');
    expect(a.mediaKey.hex).toMatch(/^[0-9a-f]{64}$/);
    expect(a.mediaKey.hex).not.toBe(b.mediaKey.hex);
    expect(a.fileSha256).toEqual(b.fileSha256);
  });
});

describe('interop-cert media decrypt', () => {
  it('round-trips a fixture byte for byte and lists the checks passed', async () => {
    const e = await encrypt('image', PHOTO, at('rt.enc'), '--media-key', KEY_HEX);
    const r = await run(...decryptArgs(e, at('rt.enc'), at('rt.jpg')));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`OK ${e.fileLength} bytes (image) written to ${at('rt.jpg')}`);
    expect(r.out).toContain('passed: length, fileEncSha256, mac, decrypt, fileSha256, fileLength');
    expect(readFileSync(at('rt.jpg')).equals(readFileSync(PHOTO))).toBe(true);
  });

  it('exits 1 with VIO_MEDIA_ENC_HASH_MISMATCH on a tampered blob and writes nothing', async () => {
    const e = await encrypt('image', PHOTO, at('t.enc'), '--media-key', KEY_HEX);
    const blob = readFileSync(at('t.enc'));
    blob[100] = (blob[100] ?? 0) ^ 1;
    writeFileSync(at('t.enc'), blob);
    const r = await run(...decryptArgs(e, at('t.enc'), at('t.jpg')));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL VIO_MEDIA_ENC_HASH_MISMATCH: SHA-256 of the blob is [0-9a-f]{64}/);
    expect(r.out).toContain('passed: length; failed: fileEncSha256');
    expect(() => readFileSync(at('t.jpg'))).toThrow(/ENOENT/);
  });

  it('exits 1 with the code of the failing check', async () => {
    const e = await encrypt('document', PHOTO, at('d.enc'), '--media-key', KEY_B64);
    const args = decryptArgs(e, at('d.enc'), at('d.out'));
    const withOpt = (opt: string, value: string) => {
      const a = [...args];
      a[a.indexOf(opt) + 1] = value;
      return a;
    };
    const wrongKey = `${KEY_HEX.slice(0, 62)}ff`;
    expect((await run(...withOpt('--media-key', wrongKey))).out).toMatch(/^FAIL VIO_MEDIA_BAD_MAC/);
    expect((await run(...withOpt('--type', 'image'))).out).toMatch(/^FAIL VIO_MEDIA_BAD_MAC/);
    expect((await run(...withOpt('--file-sha256', e.fileEncSha256.hex))).out).toMatch(
      /^FAIL VIO_MEDIA_PLAIN_HASH_MISMATCH/,
    );
    const wrongLength = await run(...withOpt('--file-length', String(e.fileLength - 1)));
    expect(wrongLength.code).toBe(1);
    expect(wrongLength.out).toMatch(/^FAIL VIO_MEDIA_LENGTH_MISMATCH/);
    writeFileSync(at('short.enc'), readFileSync(at('d.enc')).subarray(0, 25));
    const short = await run(...decryptArgs(e, at('short.enc'), at('d.out')));
    expect(short.code).toBe(1);
    expect(short.out).toMatch(/^FAIL VIO_MEDIA_TRUNCATED/);
    expect(short.out).toContain('passed: none; failed: length');
  });

  it('exits 2 with HRN_ERR_USAGE on bad arguments', async () => {
    const e = await encrypt('video', PHOTO, at('u.enc'), '--media-key', KEY_HEX);
    const args = decryptArgs(e, at('u.enc'), at('u.out'));
    const withOpt = (opt: string, value: string) => {
      const a = [...args];
      a[a.indexOf(opt) + 1] = value;
      return a;
    };
    const cases: [string[], RegExp][] = [
      [withOpt('--type', 'hologram'), /HRN_ERR_USAGE: --type: unknown media type hologram/],
      [withOpt('--type', '__proto__'), /HRN_ERR_USAGE: --type: unknown media type/],
      [
        withOpt('--media-key', e.mediaKey.hex.slice(2)),
        /HRN_ERR_USAGE: --media-key must be 32 bytes, got 31/,
      ],
      [withOpt('--media-key', 'not a key!'), /HRN_ERR_USAGE: --media-key: not hex or base64/],
      [
        withOpt('--file-sha256', Buffer.alloc(20).toString('base64')),
        /HRN_ERR_USAGE: --file-sha256 must be 32/,
      ],
      [withOpt('--file-length', '-1'), /HRN_ERR_USAGE: --file-length must be a non-negative integer/],
      [withOpt('--in', at('missing.enc')), /HRN_ERR_USAGE: cannot read .*missing\.enc: no such file/],
      [withOpt('--in', dir), /HRN_ERR_USAGE: cannot read .*: not a file/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    const missing = await run(
      'media',
      'encrypt',
      '--type',
      'image',
      '--in',
      at('nope.jpg'),
      '--out',
      at('x'),
    );
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/HRN_ERR_USAGE: cannot read/);
    const shortKey = await run(
      'media',
      'encrypt',
      '--type',
      'image',
      '--in',
      PHOTO,
      '--out',
      at('x'),
      '--media-key',
      'AAA/',
    );
    expect(shortKey.code).toBe(2);
    expect(shortKey.err).toMatch(/--media-key must be 32 bytes, got 3/);
    // An even run of hex digits is hex, even where it would also be base64.
    const hexFirst = await run(
      'media',
      'encrypt',
      '--type',
      'image',
      '--in',
      PHOTO,
      '--out',
      at('x'),
      '--media-key',
      'AAAA',
    );
    expect(hexFirst.err).toMatch(/--media-key must be 32 bytes, got 2/);
    // Commander's own usage errors: a required option left out, an unknown subcommand.
    expect((await run('media', 'decrypt', '--type', 'image')).code).toBe(2);
    expect((await run('media', 'frobnicate')).code).toBe(2);
  });

  it('exits 3 with HRN_ERR_IO when the output cannot be written', async () => {
    const r = await run(
      'media',
      'encrypt',
      '--type',
      'image',
      '--in',
      PHOTO,
      '--out',
      join(dir, 'no', 'such', 'dir'),
    );
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^HRN_ERR_IO: cannot write/);
  });
});
