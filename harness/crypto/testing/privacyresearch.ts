// A minimal v3 client on @privacyresearch/libsignal-protocol-typescript, an implementation
// independent of the `libsignal` package the signal-x3dh peers run on. The interop tests use
// it to show the two speak the same protocol; the reference candidate builds on the same
// library, so a bug shared by the harness and the candidate cannot hide behind one library.
//
// It speaks the harness's types (raw 32-byte keys, Ciphertext, PublicBundle) so tests can hand
// keys and messages across without conversion code of their own. Errors are thrown as the
// library throws them: this is a test client, not a profile.

import {
  type Direction,
  KeyHelper,
  type KeyPairType,
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
  type StorageType,
} from '@privacyresearch/libsignal-protocol-typescript';
import { toLibraryAddress } from '../address.ts';
import type { Ciphertext, KeyUpload, PreKeyPublic, PublicBundle } from '../profile.ts';

const TYPE_PREKEY = 3;
const TYPE_WHISPER = 1;

function ab(bytes: Uint8Array): ArrayBuffer {
  return Uint8Array.from(bytes).buffer;
}

function typed(raw: Uint8Array): ArrayBuffer {
  return Uint8Array.of(0x05, ...raw).buffer;
}

function raw(key: ArrayBuffer): Uint8Array {
  return new Uint8Array(key).slice(1);
}

function same(a: ArrayBuffer, b: ArrayBuffer): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

class MemoryStorage implements StorageType {
  readonly sessions = new Map<string, string>();
  readonly identities = new Map<string, ArrayBuffer>();
  readonly preKeys = new Map<string, KeyPairType>();
  readonly signedPreKeys = new Map<string, KeyPairType>();

  constructor(
    private readonly identity: KeyPairType,
    private readonly registrationId: number,
  ) {}

  async getIdentityKeyPair(): Promise<KeyPairType> {
    return this.identity;
  }

  async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }

  // By name: the library passes `name` here and `name.device` to saveIdentity.
  async isTrustedIdentity(
    identifier: string,
    identityKey: ArrayBuffer,
    _direction: Direction,
  ): Promise<boolean> {
    const known = this.identities.get(identifier.split('.')[0] ?? identifier);
    return known === undefined || same(known, identityKey);
  }

  async saveIdentity(encodedAddress: string, publicKey: ArrayBuffer): Promise<boolean> {
    const name = encodedAddress.split('.')[0] ?? encodedAddress;
    const known = this.identities.get(name);
    this.identities.set(name, publicKey);
    return known !== undefined && !same(known, publicKey);
  }

  async loadPreKey(id: string | number): Promise<KeyPairType | undefined> {
    return this.preKeys.get(String(id));
  }

  async storePreKey(id: string | number, keyPair: KeyPairType): Promise<void> {
    this.preKeys.set(String(id), keyPair);
  }

  async removePreKey(id: string | number): Promise<void> {
    this.preKeys.delete(String(id));
  }

  async storeSession(encodedAddress: string, record: string): Promise<void> {
    this.sessions.set(encodedAddress, record);
  }

  async loadSession(encodedAddress: string): Promise<string | undefined> {
    return this.sessions.get(encodedAddress);
  }

  async loadSignedPreKey(id: string | number): Promise<KeyPairType | undefined> {
    return this.signedPreKeys.get(String(id));
  }

  async storeSignedPreKey(id: string | number, keyPair: KeyPairType): Promise<void> {
    this.signedPreKeys.set(String(id), keyPair);
  }

  async removeSignedPreKey(id: string | number): Promise<void> {
    this.signedPreKeys.delete(String(id));
  }
}

export class PrivacyResearchClient {
  readonly #storage: MemoryStorage;
  readonly #upload: KeyUpload;

  private constructor(storage: MemoryStorage, upload: KeyUpload) {
    this.#storage = storage;
    this.#upload = upload;
  }

  static async create(
    options: { registrationId?: number; preKeyCount?: number } = {},
  ): Promise<PrivacyResearchClient> {
    const identity = await KeyHelper.generateIdentityKeyPair();
    const registrationId = options.registrationId ?? KeyHelper.generateRegistrationId();
    const storage = new MemoryStorage(identity, registrationId);
    const signed = await KeyHelper.generateSignedPreKey(identity, 1);
    await storage.storeSignedPreKey(signed.keyId, signed.keyPair);
    const preKeys: PreKeyPublic[] = [];
    for (let id = 1; id <= (options.preKeyCount ?? 3); id++) {
      const pk = await KeyHelper.generatePreKey(id);
      await storage.storePreKey(id, pk.keyPair);
      preKeys.push({ id, publicKey: raw(pk.keyPair.pubKey) });
    }
    return new PrivacyResearchClient(storage, {
      registrationId,
      identityKey: raw(identity.pubKey),
      signedPreKey: {
        id: signed.keyId,
        publicKey: raw(signed.keyPair.pubKey),
        signature: new Uint8Array(signed.signature),
      },
      preKeys,
    });
  }

  get identityKey(): Uint8Array {
    return Uint8Array.from(this.#upload.identityKey);
  }

  get registrationId(): number {
    return this.#upload.registrationId;
  }

  keyUpload(): KeyUpload {
    return this.#upload;
  }

  #address(jid: string): SignalProtocolAddress {
    const a = toLibraryAddress(jid);
    return new SignalProtocolAddress(a.name, a.deviceId);
  }

  async processBundle(jid: string, bundle: PublicBundle): Promise<void> {
    await new SessionBuilder(this.#storage, this.#address(jid)).processPreKey({
      registrationId: bundle.registrationId,
      identityKey: typed(bundle.identityKey),
      signedPreKey: {
        keyId: bundle.signedPreKey.id,
        publicKey: typed(bundle.signedPreKey.publicKey),
        signature: ab(bundle.signedPreKey.signature),
      },
      ...(bundle.preKey && {
        preKey: { keyId: bundle.preKey.id, publicKey: typed(bundle.preKey.publicKey) },
      }),
    });
  }

  async encrypt(jid: string, plaintext: Uint8Array): Promise<Ciphertext> {
    const m = await new SessionCipher(this.#storage, this.#address(jid)).encrypt(ab(plaintext));
    if (m.body === undefined) throw new Error('the library returned no body');
    // The library hands bodies out as binary strings, one character per byte.
    const bytes = Uint8Array.from(Buffer.from(m.body, 'latin1'));
    if (m.type === TYPE_PREKEY) return { type: 'pkmsg', bytes };
    if (m.type === TYPE_WHISPER) return { type: 'msg', bytes };
    throw new Error(`unexpected message type ${m.type}`);
  }

  async decrypt(jid: string, ciphertext: Ciphertext): Promise<Uint8Array> {
    const cipher = new SessionCipher(this.#storage, this.#address(jid));
    const body = ab(ciphertext.bytes);
    const plain =
      ciphertext.type === 'pkmsg'
        ? await cipher.decryptPreKeyWhisperMessage(body, 'binary')
        : await cipher.decryptWhisperMessage(body, 'binary');
    return new Uint8Array(plain);
  }

  async knownIdentity(jid: string): Promise<Uint8Array | undefined> {
    const key = this.#storage.identities.get(toLibraryAddress(jid).name);
    return key && raw(key);
  }
}
