// Media encryption against fixed vectors (the profile's known answer, and vectors the openssl
// command line computed), the receiver's check order with a real blob for every failure, and
// properties over random files.
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODES } from '../codes.ts';
import type { EncryptedMedia, MediaExpectation, MediaKind } from './media.ts';
import {
  decryptMedia,
  deriveMediaKeys,
  encryptMedia,
  isMediaKind,
  MEDIA_CHECKS,
  MEDIA_KIND_NAMES,
  MEDIA_KINDS,
  sha256,
  uploadToken,
} from './media.ts';

const SEED = 20261124;
const ROOT = new URL('../../', import.meta.url);
const VECTORS_FILE = new URL('fixtures/media/vectors.json', ROOT);
const SCRIPT = new URL('scripts/media-vectors.sh', ROOT);

const h = (s: string) => Buffer.from(s, 'hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Vector {
  name: string;
  kind: string;
  info: string;
  mediaKey: string;
  plaintext: string;
  iv: string;
  cipherKey: string;
  macKey: string;
  refKey: string;
  mac: string;
  blob: string;
  fileSha256: string;
  fileEncSha256: string;
  fileLength: number;
  uploadToken: string;
}
const vectorsText = readFileSync(VECTORS_FILE, 'utf8');
const { vectors } = JSON.parse(vectorsText) as { vectors: Vector[] };

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function expectationOf(enc: EncryptedMedia, kind: MediaKind): MediaExpectation {
  return {
    kind,
    mediaKey: enc.mediaKey,
    fileEncSha256: enc.fileEncSha256,
    fileSha256: enc.fileSha256,
    fileLength: enc.fileLength,
  };
}

/** A blob a misbehaving sender could make: any ciphertext, with a valid MAC and hashes for it. */
function sealRaw(ct: Buffer, kind: MediaKind, mediaKey: Buffer) {
  const { iv, macKey } = deriveMediaKeys(mediaKey, kind);
  const mac = createHmac('sha256', macKey).update(iv).update(ct).digest().subarray(0, 10);
  const blob = Buffer.concat([ct, mac]);
  return { blob, fileEncSha256: sha256(blob) };
}

describe('the known answer of PROFILE.md §8.3', () => {
  const mediaKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const plaintext = Buffer.from('hello whatsapp interop', 'ascii');

  it('derives the iv and produces the blob and fileEncSha256', () => {
    expect(hex(deriveMediaKeys(mediaKey, 'image').iv)).toBe('aa6a127218397cbd2383e4ccf7176a79');
    const enc = encryptMedia(plaintext, 'image', mediaKey);
    expect(hex(enc.blob)).toBe(
      '670aff37e654d315a1f7c72d15764833109cd21c29327aa84609b8f8131c6d42df15e415d5b38b99c754',
    );
    expect(hex(enc.fileEncSha256)).toBe('df931cd9ddebb797c13f228cd47ab1621ad5be537b5b2ead3d82123c4a9eb8a1');
    expect(hex(enc.fileSha256)).toBe('d1d810cc00c9d70304a5db5705144509b9b2c76278b91cb74cee4f2c001e6fee');
    expect(enc.fileLength).toBe(22);
    expect(uploadToken(enc.fileEncSha256)).toBe('35Mc2d3rt5fBPyKM1HqxYhrVvlN7Wy6tPYISPEqeuKE');
  });

  it('is the first vector of the openssl-made file', () => {
    expect(vectors[0]?.name).toBe('image-known-answer');
    expect(vectors[0]?.blob).toBe(hex(encryptMedia(plaintext, 'image', mediaKey).blob));
  });
});

describe('vectors computed with the openssl command line', () => {
  it('cover the four upload types and both thumbnails', () => {
    expect(new Set(vectors.map((v) => v.kind))).toEqual(
      new Set(['image', 'video', 'audio', 'document', 'image-thumbnail', 'video-thumbnail']),
    );
  });

  for (const v of vectors) {
    it(`reproduces ${v.name}`, () => {
      if (!isMediaKind(v.kind)) throw new Error(`vector ${v.name}: unknown kind ${v.kind}`);
      const kind = v.kind;
      expect(MEDIA_KINDS[kind].info).toBe(v.info);
      const keys = deriveMediaKeys(h(v.mediaKey), kind);
      expect([hex(keys.iv), hex(keys.cipherKey), hex(keys.macKey), hex(keys.refKey)]).toEqual([
        v.iv,
        v.cipherKey,
        v.macKey,
        v.refKey,
      ]);
      const enc = encryptMedia(h(v.plaintext), kind, h(v.mediaKey));
      expect(hex(enc.blob)).toBe(v.blob);
      expect(hex(enc.blob.subarray(-10))).toBe(v.mac);
      expect(hex(enc.fileSha256)).toBe(v.fileSha256);
      expect(hex(enc.fileEncSha256)).toBe(v.fileEncSha256);
      expect(enc.fileLength).toBe(v.fileLength);
      expect(uploadToken(enc.fileEncSha256)).toBe(v.uploadToken);
      const dec = decryptMedia(h(v.blob), {
        kind,
        mediaKey: h(v.mediaKey),
        fileEncSha256: h(v.fileEncSha256),
        fileSha256: h(v.fileSha256),
        fileLength: v.fileLength,
      });
      expect(dec.ok && hex(dec.plaintext)).toBe(v.plaintext);
    });
  }

  // The committed file is only trustworthy while the script still makes it: rerun it here.
  it.skipIf(!hasOpenssl())('are what scripts/media-vectors.sh prints today (needs openssl)', () => {
    const out = execFileSync('bash', [fileURLToPath(SCRIPT)], { encoding: 'utf8' });
    expect(out).toBe(vectorsText);
  });
});

describe('kinds', () => {
  const key = Buffer.alloc(32, 7);

  it('map stickers to image keys, voice notes to audio keys and gifs to video keys', () => {
    expect(deriveMediaKeys(key, 'sticker')).toEqual(deriveMediaKeys(key, 'image'));
    expect(deriveMediaKeys(key, 'ptt')).toEqual(deriveMediaKeys(key, 'audio'));
    expect(deriveMediaKeys(key, 'gif')).toEqual(deriveMediaKeys(key, 'video'));
  });

  it('give every distinct info distinct keys', () => {
    const infos = new Set(MEDIA_KIND_NAMES.map((k) => MEDIA_KINDS[k].info));
    expect(infos.size).toBe(6);
    const ivs = new Set([...infos].map((info) => hex(deriveMediaKeys(key, kindWithInfo(info)).iv)));
    expect(ivs.size).toBe(6);
  });

  it('have the default mimetypes of PROFILE.md §8.1', () => {
    expect(Object.fromEntries(MEDIA_KIND_NAMES.map((k) => [k, MEDIA_KINDS[k].mimetype]))).toEqual({
      image: 'image/jpeg',
      sticker: 'image/webp',
      video: 'video/mp4',
      gif: 'video/mp4',
      audio: 'audio/ogg; codecs=opus',
      ptt: 'audio/ogg; codecs=opus',
      document: 'application/pdf',
      'image-thumbnail': 'image/jpeg',
      'video-thumbnail': 'image/jpeg',
    });
  });

  it('reject keys that are not 32 bytes and kinds outside the table', () => {
    expect(() => deriveMediaKeys(Buffer.alloc(31), 'image')).toThrow(RangeError);
    expect(() => encryptMedia(Buffer.alloc(1), 'image', Buffer.alloc(33))).toThrow(RangeError);
    expect(() => deriveMediaKeys(key, 'constructor' as MediaKind)).toThrow(/unknown media kind/);
    expect(isMediaKind('toString')).toBe(false);
  });

  it('draw a fresh random mediaKey when none is given', () => {
    const a = encryptMedia(Buffer.from('x'), 'image');
    const b = encryptMedia(Buffer.from('x'), 'image');
    expect(a.mediaKey).toHaveLength(32);
    expect(a.mediaKey.equals(b.mediaKey)).toBe(false);
    expect(a.blob.equals(b.blob)).toBe(false);
  });
});

function kindWithInfo(info: string): MediaKind {
  const k = MEDIA_KIND_NAMES.find((n) => MEDIA_KINDS[n].info === info);
  if (!k) throw new Error(info);
  return k;
}

describe('the receiver checks, one real blob for each failure', () => {
  const mediaKey = h(vectors[3]?.mediaKey ?? '');
  const plaintext = Buffer.from('a document of forty-eight bytes, three blocks..', 'ascii');
  const enc = encryptMedia(plaintext, 'document', mediaKey);
  const good = expectationOf(enc, 'document');

  /** The code decryptMedia gives, after checking the failure is well formed. */
  function codeOf(blob: Uint8Array, expect_: MediaExpectation = good): string {
    const r = decryptMedia(blob, expect_);
    if (r.ok) return 'ok';
    expect(CODES[r.code].category).toBe('media');
    expect(r.message).not.toBe('');
    expect(r.passed).toEqual(MEDIA_CHECKS.slice(0, MEDIA_CHECKS.indexOf(r.check)));
    return r.code;
  }

  it('passes an untouched blob through every check', () => {
    const r = decryptMedia(enc.blob, good);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.plaintext.equals(plaintext)).toBe(true);
      expect(r.checks).toEqual(MEDIA_CHECKS);
    }
    const noLength = decryptMedia(enc.blob, { ...good, fileLength: undefined });
    expect(noLength.ok && noLength.checks).toEqual(MEDIA_CHECKS.filter((c) => c !== 'fileLength'));
  });

  it('VIO_MEDIA_TRUNCATED: too short for one block and the MAC, or a ragged ciphertext', () => {
    expect(codeOf(enc.blob.subarray(0, 25))).toBe('VIO_MEDIA_TRUNCATED');
    expect(codeOf(Buffer.alloc(0))).toBe('VIO_MEDIA_TRUNCATED');
    expect(codeOf(enc.blob.subarray(1))).toBe('VIO_MEDIA_TRUNCATED');
    expect(codeOf(Buffer.concat([enc.blob, Buffer.alloc(1)]))).toBe('VIO_MEDIA_TRUNCATED');
    // Truncation comes first even when the hash given is that of the short blob itself.
    const short = enc.blob.subarray(0, 40);
    expect(codeOf(short, { ...good, fileEncSha256: sha256(short) })).toBe('VIO_MEDIA_TRUNCATED');
    // A MAC alone: the ciphertext length (0) is a multiple of 16 but holds no block.
    const macOnly = enc.blob.subarray(-10);
    expect(codeOf(macOnly, { ...good, fileEncSha256: sha256(macOnly) })).toBe('VIO_MEDIA_TRUNCATED');
    // A whole block lost is no longer "truncated" by length: the enc hash catches it.
    expect(codeOf(enc.blob.subarray(16))).toBe('VIO_MEDIA_ENC_HASH_MISMATCH');
  });

  it('VIO_MEDIA_ENC_HASH_MISMATCH: a corrupted download, even when its MAC is also bad', () => {
    const flipped = Buffer.from(enc.blob);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(codeOf(flipped)).toBe('VIO_MEDIA_ENC_HASH_MISMATCH');
    // Bad MAC and bad enc hash together: the enc hash is checked first.
    const badMac = Buffer.from(enc.blob);
    badMac[badMac.length - 1] = (badMac[badMac.length - 1] ?? 0) ^ 0x80;
    expect(codeOf(badMac)).toBe('VIO_MEDIA_ENC_HASH_MISMATCH');
    expect(codeOf(enc.blob, { ...good, fileEncSha256: enc.fileSha256 })).toBe('VIO_MEDIA_ENC_HASH_MISMATCH');
  });

  it('VIO_MEDIA_BAD_MAC: a forged MAC whose hash the sender announced, or a wrong mediaKey', () => {
    const forged = Buffer.from(enc.blob);
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 0x80;
    expect(codeOf(forged, { ...good, fileEncSha256: sha256(forged) })).toBe('VIO_MEDIA_BAD_MAC');
    // A tampered ciphertext with a consistent hash is caught by the MAC before any decryption.
    const tampered = Buffer.from(enc.blob);
    tampered[20] = (tampered[20] ?? 0) ^ 0xff;
    expect(codeOf(tampered, { ...good, fileEncSha256: sha256(tampered) })).toBe('VIO_MEDIA_BAD_MAC');
    // Right hashes, wrong key.
    const otherKey = Buffer.from(mediaKey);
    otherKey[31] = (otherKey[31] ?? 0) ^ 1;
    expect(codeOf(enc.blob, { ...good, mediaKey: otherKey })).toBe('VIO_MEDIA_BAD_MAC');
    // The keys of another kind are a wrong key too.
    expect(codeOf(enc.blob, { ...good, kind: 'image' })).toBe('VIO_MEDIA_BAD_MAC');
  });

  it('VIO_MEDIA_DECRYPT_FAILED: an authenticated ciphertext whose PKCS#7 padding is bad', () => {
    const { iv, cipherKey } = deriveMediaKeys(mediaKey, 'document');
    // Encrypt without padding a block ending in 0x00, which no PKCS#7 padding ends with.
    const cipher = createCipheriv('aes-256-cbc', cipherKey, iv).setAutoPadding(false);
    const last = Buffer.concat([Buffer.from('fifteen bytes!!', 'ascii'), Buffer.from([0x00])]);
    const ct = Buffer.concat([cipher.update(last), cipher.final()]);
    const sealed = sealRaw(ct, 'document', mediaKey);
    expect(codeOf(sealed.blob, { ...good, fileEncSha256: sealed.fileEncSha256 })).toBe(
      'VIO_MEDIA_DECRYPT_FAILED',
    );
    // And a padding byte above 16 (0x11), and inconsistent padding bytes (.. 02 03).
    for (const tail of [[0x11], [0x02, 0x03]]) {
      const c = createCipheriv('aes-256-cbc', cipherKey, iv).setAutoPadding(false);
      const block = Buffer.concat([Buffer.alloc(16 - tail.length, 0x41), Buffer.from(tail)]);
      const s = sealRaw(Buffer.concat([c.update(block), c.final()]), 'document', mediaKey);
      expect(codeOf(s.blob, { ...good, fileEncSha256: s.fileEncSha256 })).toBe('VIO_MEDIA_DECRYPT_FAILED');
    }
  });

  it('VIO_MEDIA_PLAIN_HASH_MISMATCH: the blob decrypts, but to another file than announced', () => {
    expect(codeOf(enc.blob, { ...good, fileSha256: sha256(Buffer.from('another file')) })).toBe(
      'VIO_MEDIA_PLAIN_HASH_MISMATCH',
    );
    // The plain hash is checked before the length.
    expect(codeOf(enc.blob, { ...good, fileSha256: enc.fileEncSha256, fileLength: 1 })).toBe(
      'VIO_MEDIA_PLAIN_HASH_MISMATCH',
    );
  });

  it('a hash mismatch shows the hash it found and the one announced, as evidence', () => {
    const corrupted = Buffer.from(enc.blob);
    corrupted[0] = (corrupted[0] ?? 0) ^ 1;
    const e = decryptMedia(corrupted, good);
    expect(e.ok).toBe(false);
    expect(!e.ok && e.message).toContain(hex(sha256(corrupted)));
    expect(!e.ok && e.message).toContain(hex(enc.fileEncSha256));
    const announced = sha256(Buffer.from('another file'));
    const p = decryptMedia(enc.blob, { ...good, fileSha256: announced });
    expect(!p.ok && p.message).toContain(hex(enc.fileSha256));
    expect(!p.ok && p.message).toContain(hex(announced));
  });

  it('VIO_MEDIA_LENGTH_MISMATCH: everything else right, fileLength wrong', () => {
    expect(codeOf(enc.blob, { ...good, fileLength: plaintext.length + 1 })).toBe('VIO_MEDIA_LENGTH_MISMATCH');
    expect(codeOf(enc.blob, { ...good, fileLength: 0 })).toBe('VIO_MEDIA_LENGTH_MISMATCH');
  });

  it('reads the blob through its view, not the whole underlying buffer', () => {
    const padded = Buffer.concat([Buffer.alloc(7, 0xee), enc.blob, Buffer.alloc(5, 0xee)]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 7, enc.blob.length);
    expect(codeOf(view)).toBe('ok');
  });
});

describe('properties', () => {
  const kindArb = fc.constantFrom(...MEDIA_KIND_NAMES);
  const fileArb = fc.uint8Array({ minLength: 0, maxLength: 5000 });
  const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((k) => Buffer.from(k));

  it('encrypt then decrypt round-trips any file of 0..5000 bytes for every kind', () => {
    fc.assert(
      fc.property(fileArb, kindArb, keyArb, (file, kind, key) => {
        const enc = encryptMedia(file, kind, key);
        expect(enc.blob.length).toBe((Math.floor(file.length / 16) + 1) * 16 + 10);
        const r = decryptMedia(enc.blob, expectationOf(enc, kind));
        expect(r.ok && Buffer.from(file).equals(r.plaintext)).toBe(true);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('rejects any single flipped byte of the blob with VIO_MEDIA_ENC_HASH_MISMATCH', () => {
    fc.assert(
      fc.property(
        fileArb,
        kindArb,
        keyArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (file, kind, key, at, mask) => {
          const enc = encryptMedia(file, kind, key);
          const blob = Buffer.from(enc.blob);
          const i = at % blob.length;
          blob[i] = (blob[i] ?? 0) ^ mask;
          const r = decryptMedia(blob, expectationOf(enc, kind));
          expect(r.ok ? 'ok' : r.code).toBe('VIO_MEDIA_ENC_HASH_MISMATCH');
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('rejects the same flips with VIO_MEDIA_BAD_MAC once the hash is made to match', () => {
    fc.assert(
      fc.property(
        fileArb,
        kindArb,
        keyArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (file, kind, key, at, mask) => {
          const enc = encryptMedia(file, kind, key);
          const blob = Buffer.from(enc.blob);
          const i = at % blob.length;
          blob[i] = (blob[i] ?? 0) ^ mask;
          const r = decryptMedia(blob, { ...expectationOf(enc, kind), fileEncSha256: sha256(blob) });
          expect(r.ok ? 'ok' : r.code).toBe('VIO_MEDIA_BAD_MAC');
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});
