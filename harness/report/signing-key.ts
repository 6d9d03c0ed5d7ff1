// The Ed25519 key a run's report is signed with, and the key id reviewers pin.
//
// Where the private key comes from, first match wins:
//   1. an explicit path (`--key PATH`), a PKCS#8 PEM file;
//   2. INTEROP_CERT_KEY: the PEM itself (how CI secrets usually arrive) or a path to it;
//   3. the installation key, $INTEROP_CERT_HOME/signing-key.pem (default
//      $XDG_CONFIG_HOME/interop-cert, else ~/.config/interop-cert), generated on first use
//      with mode 0600 in a 0700 directory.

import type { KeyObject } from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from '../codes.ts';

export const KEY_FILE_NAME = 'signing-key.pem';

export type KeySource = 'path' | 'env' | 'installation';

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key, as it is written into signature.json. */
  readonly publicKeyPem: string;
  readonly keyId: string;
  readonly source: KeySource;
  /** The file the key was read from (absent when INTEROP_CERT_KEY held the PEM itself). */
  readonly path?: string;
}

export interface KeyOptions {
  /** A PKCS#8 PEM Ed25519 private key file; wins over everything else. */
  readonly keyPath?: string;
  /** Where INTEROP_CERT_KEY, INTEROP_CERT_HOME, XDG_CONFIG_HOME and HOME are read; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The key id: lowercase hex SHA-256 of the public key's DER SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** A key id as people type it: with or without a `sha256:` prefix, any case. */
export function normaliseKeyId(id: string): string {
  return id
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '');
}

/** The directory that holds the installation key. */
export function installationHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.INTEROP_CERT_HOME) return env.INTEROP_CERT_HOME;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'interop-cert');
}

function fromPrivatePem(pem: string, source: KeySource, where: string, path?: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new HarnessError(
      'HRN_ERR_SIGNING_KEY',
      `${where} is not a readable PEM private key (an unencrypted PKCS#8 Ed25519 key is expected): ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new HarnessError(
      'HRN_ERR_SIGNING_KEY',
      `${where} is a ${privateKey.asymmetricKeyType ?? 'unknown'} key; reports are signed with Ed25519`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
    source,
    ...(path ? { path } : {}),
  };
}

function readKeyFile(path: string, source: KeySource): SigningKey {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HarnessError(
      'HRN_ERR_SIGNING_KEY',
      `cannot read the signing key ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  return fromPrivatePem(pem, source, path, path);
}

/**
 * Creates the installation key unless it exists. The key is written to a private temporary file
 * and hard-linked into place, which fails when the name is taken: two runs starting at once on
 * a fresh machine end up with the same key, never with half a file.
 */
function ensureInstallationKey(home: string): string {
  const path = join(home, KEY_FILE_NAME);
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const tmp = join(home, `.${KEY_FILE_NAME}.tmp-${process.pid}`);
    writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'w' });
    // The mode given to writeFileSync passes through the umask; make sure of it.
    chmodSync(tmp, 0o600);
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(tmp);
    }
  } catch (e) {
    throw new HarnessError(
      'HRN_ERR_SIGNING_KEY',
      `cannot create the signing key ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  return path;
}

/** Loads the signing key (see the top of this file for where it comes from). */
export function loadSigningKey(opts: KeyOptions = {}): SigningKey {
  const env = opts.env ?? process.env;
  if (opts.keyPath) return readKeyFile(opts.keyPath, 'path');
  const fromEnv = env.INTEROP_CERT_KEY;
  if (fromEnv) {
    if (fromEnv.trimStart().startsWith('-----BEGIN')) {
      return fromPrivatePem(fromEnv, 'env', 'INTEROP_CERT_KEY');
    }
    return readKeyFile(fromEnv, 'env');
  }
  const home = installationHome(env);
  const path = join(home, KEY_FILE_NAME);
  try {
    return readKeyFile(path, 'installation');
  } catch (e) {
    const missing = ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    if (!missing) throw e;
  }
  return readKeyFile(ensureInstallationKey(home), 'installation');
}

/** A public key given to pin verification: SPKI PEM, or a private key PEM (its public half is used). */
export function parsePublicKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new HarnessError('HRN_ERR_USAGE', `${where} is not a PEM public key: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new HarnessError(
      'HRN_ERR_USAGE',
      `${where} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`,
    );
  }
  return key;
}
