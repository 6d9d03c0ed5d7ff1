// `interop-cert media encrypt|decrypt`: encrypts a file as a sender does and checks a downloaded
// blob as a receiver must (docs/PROFILE.md §8, docs/MEDIA.md), so a vendor can test its own
// uploads and downloads by hand against the harness's implementation.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HarnessError } from '../codes.ts';
import type { MediaKind } from '../crypto/media.ts';
import {
  decryptMedia,
  encryptMedia,
  isMediaKind,
  MEDIA_KEY_LENGTH,
  MEDIA_KIND_NAMES,
  MEDIA_KINDS,
  uploadToken,
} from '../crypto/media.ts';
import type { ExitCode, Io } from './main.ts';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Bytes given as hex or base64 (standard or url-safe, padded or not). An even run of hex digits
 * is read as hex: a 32-byte value in base64 is 43 characters unpadded or ends in "=" padded, so
 * it is never mistaken for hex.
 */
export function parseBytes(value: string, option: string, length: number): Buffer {
  let bytes: Buffer | undefined;
  if (HEX.test(value)) {
    bytes = Buffer.from(value, 'hex');
  } else if (BASE64.test(value)) {
    const std = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    const decoded = Buffer.from(std, 'base64');
    // Node's decoder skips what it cannot read; re-encoding catches a value it read only in part.
    if (decoded.toString('base64').replace(/=+$/, '') === std) bytes = decoded;
  }
  if (!bytes) throw new HarnessError('HRN_ERR_USAGE', `${option}: not hex or base64: ${value}`);
  if (bytes.length !== length) {
    throw new HarnessError('HRN_ERR_USAGE', `${option} must be ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

export function parseKind(value: string): MediaKind {
  if (!isMediaKind(value)) {
    throw new HarnessError(
      'HRN_ERR_USAGE',
      `--type: unknown media type ${value} (one of ${MEDIA_KIND_NAMES.join(', ')})`,
    );
  }
  return value;
}

function parseLength(value: string): number {
  const n = /^(?:0|[1-9]\d*)$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new HarnessError('HRN_ERR_USAGE', `--file-length must be a non-negative integer, got ${value}`);
  }
  return n;
}

function readInput(path: string): Buffer {
  // A missing input is the caller's mistake (exit 2); a file that exists but cannot be read is ours (3).
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new HarnessError('HRN_ERR_USAGE', `cannot read ${path}: no such file or directory`);
  }
  if (!isFile) throw new HarnessError('HRN_ERR_USAGE', `cannot read ${path}: not a file`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function writeOutput(path: string, data: Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

const both = (b: Uint8Array) => ({
  hex: Buffer.from(b).toString('hex'),
  base64: Buffer.from(b).toString('base64'),
});

interface EncryptOptions {
  type: string;
  in: string;
  out: string;
  mediaKey?: string;
}

interface DecryptOptions {
  type: string;
  mediaKey: string;
  fileEncSha256: string;
  fileSha256: string;
  fileLength?: string;
  in: string;
  out: string;
}

export function registerMedia(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  const media = program
    .command('media')
    .description('encrypt a file as a sender does, or check and decrypt a blob as a receiver must');

  media
    .command('encrypt')
    .description('encrypt a file into an upload blob (ct || mac) and print the message fields as JSON')
    .requiredOption('--type <type>', `media type: ${MEDIA_KIND_NAMES.join(', ')}`)
    .requiredOption('--in <file>', 'the file to encrypt')
    .requiredOption('--out <blob>', 'where to write the blob')
    .option('--media-key <key>', '32-byte mediaKey, hex or base64 (default: fresh random bytes)')
    .action((opts: EncryptOptions) => {
      const kind = parseKind(opts.type);
      const key =
        opts.mediaKey === undefined ? undefined : parseBytes(opts.mediaKey, '--media-key', MEDIA_KEY_LENGTH);
      const enc = encryptMedia(readInput(opts.in), kind, key);
      writeOutput(opts.out, enc.blob);
      const info = MEDIA_KINDS[kind];
      io.out(
        JSON.stringify(
          {
            type: kind,
            uploadType: info.uploadType,
            mimetype: info.mimetype,
            mediaKey: both(enc.mediaKey),
            fileSha256: both(enc.fileSha256),
            fileEncSha256: both(enc.fileEncSha256),
            fileLength: enc.fileLength,
            // The <token> of the upload path /mms/<type>/<token> (PROFILE.md §5.13).
            uploadToken: uploadToken(enc.fileEncSha256),
          },
          null,
          2,
        ),
      );
      setExit(0);
    });

  media
    .command('decrypt')
    .description(
      "check a downloaded blob in the receiver's order and write the file; exit 1 names the failed check",
    )
    .requiredOption('--type <type>', `media type: ${MEDIA_KIND_NAMES.join(', ')}`)
    .requiredOption('--media-key <key>', '32-byte mediaKey, hex or base64')
    .requiredOption('--file-enc-sha256 <hash>', 'SHA-256 of the blob, hex or base64')
    .requiredOption('--file-sha256 <hash>', 'SHA-256 of the file, hex or base64')
    .option('--file-length <n>', 'length of the file in bytes (checked when given)')
    .requiredOption('--in <blob>', 'the downloaded blob')
    .requiredOption('--out <file>', 'where to write the decrypted file (only on success)')
    .action((opts: DecryptOptions) => {
      const kind = parseKind(opts.type);
      const expectation = {
        kind,
        mediaKey: parseBytes(opts.mediaKey, '--media-key', MEDIA_KEY_LENGTH),
        fileEncSha256: parseBytes(opts.fileEncSha256, '--file-enc-sha256', 32),
        fileSha256: parseBytes(opts.fileSha256, '--file-sha256', 32),
        ...(opts.fileLength === undefined ? {} : { fileLength: parseLength(opts.fileLength) }),
      };
      const r = decryptMedia(readInput(opts.in), expectation);
      if (!r.ok) {
        io.out(`FAIL ${r.code}: ${r.message}`);
        io.out(`  passed: ${r.passed.join(', ') || 'none'}; failed: ${r.check}`);
        setExit(1);
        return;
      }
      writeOutput(opts.out, r.plaintext);
      io.out(`OK ${r.plaintext.length} bytes (${kind}) written to ${opts.out}`);
      io.out(`  passed: ${r.checks.join(', ')}`);
      setExit(0);
    });
}
