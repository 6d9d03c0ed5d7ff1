import { describe, expect, it } from 'vitest';
import { getProfile } from './profiles.ts';
import { verifyKyberPreKey, verifySignedPreKey } from './signatures.ts';

describe.each(['signal-pqxdh', 'signal-x3dh'] as const)('signatures from %s identities', (id) => {
  it('verify, and fail on any flipped byte or another identity', async () => {
    const a = await getProfile(id).createIdentity({ preKeyCount: 1 });
    const b = await getProfile(id).createIdentity({ preKeyCount: 1 });
    const up = a.keyUpload();
    expect(verifySignedPreKey(up.identityKey, up.signedPreKey)).toBe(true);
    expect(verifySignedPreKey(b.identityKey, up.signedPreKey)).toBe(false);
    const sig = Uint8Array.from(up.signedPreKey.signature);
    sig[10] = (sig[10] ?? 0) ^ 1;
    expect(verifySignedPreKey(up.identityKey, { ...up.signedPreKey, signature: sig })).toBe(false);
    const pub = Uint8Array.from(up.signedPreKey.publicKey);
    pub[0] = (pub[0] ?? 0) ^ 1;
    expect(verifySignedPreKey(up.identityKey, { ...up.signedPreKey, publicKey: pub })).toBe(false);
    expect(verifySignedPreKey(up.identityKey.subarray(1), up.signedPreKey)).toBe(false);
    if (up.kyberPreKey) {
      expect(verifyKyberPreKey(up.identityKey, up.kyberPreKey)).toBe(true);
      expect(verifyKyberPreKey(b.identityKey, up.kyberPreKey)).toBe(false);
    } else {
      expect(id).toBe('signal-x3dh');
    }
  });
});
