// The files of a run directory as the signature sees them: every regular file below DIR by its
// relative POSIX path, except DIR/signature.json itself. Anything that is neither a file nor a
// directory (a symlink, a FIFO) is listed apart: following a symlink would sign bytes that live
// outside the report, so the signer refuses it and the verifier reports it.

import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SIGNATURE_FILE = 'signature.json';

export interface RunFiles {
  /** Relative POSIX paths of the regular files, sorted. */
  readonly files: readonly string[];
  /** Relative POSIX paths of entries that are neither files nor directories, sorted. */
  readonly others: readonly string[];
}

export function listRunFiles(dir: string): RunFiles {
  const files: string[] = [];
  const others: string[] = [];
  const walk = (rel: string): void => {
    const entries: Dirent[] = readdirSync(rel ? join(dir, rel) : dir, { withFileTypes: true });
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) {
        if (path !== SIGNATURE_FILE) files.push(path);
      } else others.push(path);
    }
  };
  walk('');
  return { files: files.sort(), others: others.sort() };
}

export function sha256File(dir: string, rel: string): string {
  return createHash('sha256')
    .update(readFileSync(join(dir, ...rel.split('/'))))
    .digest('hex');
}

export function sha256Hex(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
