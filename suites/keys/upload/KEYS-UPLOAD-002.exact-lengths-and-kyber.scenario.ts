import type { ViolationCode } from '../../../harness/codes.ts';
import { verifyKyberPreKey } from '../../../harness/crypto/signatures.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { candidateSent, pollUntil } from '../../../harness/scenario/wire.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { bytesOf, child, childrenOf } from '../../../harness/xml/node.ts';

/** PROFILE.md §4.4: the exact length of every byte field of an upload or rotation. */
const LENGTHS = { registration: 4, type: 1, identity: 32, id: 3, value: 32, signature: 64 } as const;
const KYBER_VALUE = 1569;
/** PROFILE.md §5.3: a signed prekey older than seven days is rotated; an hour more to be sure. */
const ROTATE_AFTER_MS = (7 * 24 + 1) * 3_600_000;

interface Problem {
  readonly code: ViolationCode;
  readonly requirement: 'REQ-STANZA-006' | 'REQ-KEYS-010';
  readonly message: string;
}

function lengthOf(node: StanzaNode | undefined): number | undefined {
  return bytesOf(node)?.length;
}

/** Every byte field of one key element (`key`, `skey`, `kyber`) at its exact length. */
function keyProblems(key: StanzaNode, where: string, valueLength: number): Problem[] {
  const out: Problem[] = [];
  const want: [string, number][] = [
    ['id', LENGTHS.id],
    ['value', valueLength],
  ];
  if (key.tag !== 'key') want.push(['signature', LENGTHS.signature]);
  for (const [tag, n] of want) {
    const got = lengthOf(child(key, tag));
    if (got !== n) {
      out.push({
        code: 'VIO_SCHEMA_BAD_LENGTH',
        requirement: 'REQ-STANZA-006',
        message: `${where}/${tag} is ${got ?? 'missing'} bytes, not ${n}`,
      });
    }
  }
  return out;
}

export default defineScenario({
  id: 'KEYS-UPLOAD-002',
  title:
    'Every key upload and rotation has its fields at their exact lengths, and under PQXDH one signed last-resort Kyber prekey',
  requirements: ['REQ-STANZA-006', 'REQ-KEYS-010'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    // Every upload and rotation of the run so far: the first one happened at connect.
    'uploads-so-far': { rotate: false },
    // Seven days and an hour of server time make the candidate rotate; the rotation is checked too.
    rotation: { rotate: true },
  } as const,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    if (ctx.variant.rotate) {
      const alice = await ctx.peer();
      const seq = ctx.server.transcript.seq;
      ctx.server.clock.advance(ROTATE_AFTER_MS);
      await ctx.step('a message carries the new server time to the candidate', () => ctx.fence(alice));
      const rotated = await ctx.step('the candidate rotates its signed prekey', () =>
        pollUntil(
          () => candidateSent(ctx, seq, 'iq').some((f) => child(f.node, 'rotate') !== undefined),
          3_000,
        ),
      );
      // A missing rotation is KEYS-ROTATE-001's finding (a SHOULD); here there is nothing more to check.
      ctx.note('rotated', rotated);
    }
    const frames = candidateSent(ctx, 0, 'iq').filter(
      (f) =>
        f.node.attrs.xmlns === 'encrypt' &&
        f.node.attrs.type === 'set' &&
        (child(f.node, 'registration') !== undefined || child(f.node, 'rotate') !== undefined),
    );
    ctx.demand(
      frames.some((f) => child(f.node, 'registration') !== undefined),
      'VIO_KEYS_REFUSED',
      'the transcript holds no key upload by the candidate',
      'REQ-KEYS-010',
    );
    ctx.note('uploads and rotations', frames.length);
    const problems: Problem[] = [];
    let identity = ctx.server.core.accounts.get(jid)?.identityKey;
    for (const f of frames) {
      const rotate = child(f.node, 'rotate');
      const body = rotate ?? f.node;
      const where = rotate ? `rotation #${f.seq}` : `upload #${f.seq}`;
      if (!rotate) {
        for (const tag of ['registration', 'type', 'identity'] as const) {
          const got = lengthOf(child(body, tag));
          if (got !== LENGTHS[tag]) {
            problems.push({
              code: 'VIO_SCHEMA_BAD_LENGTH',
              requirement: 'REQ-STANZA-006',
              message: `${where}/${tag} is ${got ?? 'missing'} bytes, not ${LENGTHS[tag]}`,
            });
          }
        }
        const type = bytesOf(child(body, 'type'));
        if (type?.length === 1 && type[0] !== 0x05) {
          problems.push({
            code: 'VIO_SCHEMA_BAD_LENGTH',
            requirement: 'REQ-STANZA-006',
            message: `${where}/type is 0x${(type[0] ?? 0).toString(16)}, not 0x05`,
          });
        }
        identity = bytesOf(child(body, 'identity')) ?? identity;
        for (const [i, key] of childrenOf(child(body, 'list') ?? body)
          .filter((k) => k.tag === 'key')
          .entries()) {
          problems.push(...keyProblems(key, `${where}/list/key[${i}]`, LENGTHS.value));
        }
      }
      const skey = child(body, 'skey');
      if (skey) problems.push(...keyProblems(skey, `${where}/skey`, LENGTHS.value));
      const kybers = childrenOf(body).filter((k) => k.tag === 'kyber');
      for (const k of kybers) problems.push(...keyProblems(k, `${where}/kyber`, KYBER_VALUE));
      if (ctx.profile !== 'signal-pqxdh') continue;
      if (kybers.length !== 1) {
        problems.push({
          code: 'VIO_KEYS_NO_KYBER_PREKEY',
          requirement: 'REQ-KEYS-010',
          message: `${where} carries ${kybers.length} Kyber prekeys, not one`,
        });
        continue;
      }
      const k = kybers[0] as StanzaNode;
      const id = bytesOf(child(k, 'id'));
      const publicKey = bytesOf(child(k, 'value'));
      const signature = bytesOf(child(k, 'signature'));
      const verified =
        identity !== undefined &&
        id !== undefined &&
        publicKey !== undefined &&
        signature !== undefined &&
        verifyKyberPreKey(identity, { id: Buffer.from(id).readUIntBE(0, id.length), publicKey, signature });
      if (!verified) {
        problems.push({
          code: 'VIO_KEYS_NO_KYBER_PREKEY',
          requirement: 'REQ-KEYS-010',
          message: `the Kyber prekey of ${where} does not verify under the candidate's identity key`,
        });
      }
    }
    for (const p of problems.slice(0, 10)) ctx.must(false, p.code, p.message, p.requirement);
    if (problems.length > 10) ctx.note('more problems', problems.length - 10);
  },
});
