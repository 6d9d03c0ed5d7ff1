// A peer's media store over the server's HTTP side (docs/PROFILE.md §5.13): credentials from
// the media_conn iq, upload to /mms/<type>/<token>, download by direct path from a host the
// grant named, and from no other.

import type { MediaType } from '../crypto/media.ts';
import { uploadToken } from '../crypto/media.ts';
import type { MediaStore, UploadedMedia } from './media-store.ts';

export interface MediaGrant {
  readonly auth: string;
  readonly hosts: readonly string[];
  /** Milliseconds (wall time) after which a new grant is needed. */
  readonly expiresAt: number;
}

/** Media over HTTP; `grant` asks the server for credentials (a media_conn iq). */
export function httpMediaStore(grant: () => Promise<MediaGrant>): MediaStore {
  let current: MediaGrant | undefined;
  const credentials = async (): Promise<MediaGrant> => {
    if (!current || current.expiresAt <= Date.now()) current = await grant();
    return current;
  };
  return {
    async upload(type: MediaType, blob: Uint8Array, fileEncSha256: Uint8Array): Promise<UploadedMedia> {
      const g = await credentials();
      const host = g.hosts[0];
      if (!host) throw new Error('media_conn named no host');
      const url = `http://${host}/mms/${type}/${uploadToken(fileEncSha256)}?auth=${encodeURIComponent(g.auth)}`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.from(blob),
      });
      const body = (await res.json()) as { url?: string; direct_path?: string; error?: string };
      if (!res.ok || !body.direct_path || !body.url) {
        throw new Error(`media upload refused: HTTP ${res.status} ${body.error ?? ''}`.trim());
      }
      return { directPath: body.direct_path, url: body.url };
    },
    async download(directPath: string): Promise<Uint8Array | undefined> {
      const g = await credentials();
      for (const host of g.hosts) {
        const res = await fetch(`http://${host}${directPath}`);
        if (res.ok) return new Uint8Array(await res.arrayBuffer());
        await res.body?.cancel();
      }
      return undefined;
    },
  };
}
