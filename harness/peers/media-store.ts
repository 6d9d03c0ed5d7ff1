// Where peers put and fetch encrypted media blobs. The server issue provides the HTTP one
// (media_conn host, upload by token, download by direct path); tests use the in-memory one.

import { randomBytes } from 'node:crypto';
import type { MediaType } from '../crypto/media.ts';
import { sha256, uploadToken } from '../crypto/media.ts';

export interface UploadedMedia {
  readonly directPath: string;
  readonly url: string;
}

export interface MediaStore {
  upload(type: MediaType, blob: Uint8Array, fileEncSha256: Uint8Array): Promise<UploadedMedia>;
  /** The blob at a direct path, or undefined when there is none. */
  download(directPath: string): Promise<Uint8Array | undefined>;
}

/** An in-memory store that checks the upload token as the server does (PROFILE.md §5.13). */
export function memoryMediaStore(
  host = 'media.invalid',
): MediaStore & { readonly blobs: Map<string, Uint8Array> } {
  const blobs = new Map<string, Uint8Array>();
  return {
    blobs,
    async upload(type, blob, fileEncSha256) {
      if (!sha256(blob).equals(fileEncSha256)) {
        throw new Error(`upload token ${uploadToken(fileEncSha256)} does not match the blob`);
      }
      const directPath = `/v/t62.${type}/${randomBytes(16).toString('hex')}`;
      blobs.set(directPath, Uint8Array.from(blob));
      return { directPath, url: `https://${host}${directPath}` };
    },
    async download(directPath) {
      return blobs.get(directPath);
    },
  };
}
