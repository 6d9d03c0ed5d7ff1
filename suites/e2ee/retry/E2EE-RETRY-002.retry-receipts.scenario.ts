import { randomBytes } from 'node:crypto';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { child } from '../../../harness/xml/node.ts';
import { converse, sentRetries, untilWire } from '../../e2ee/wire.ts';

const MAX_RETRY = 5;

export default defineScenario({
  id: 'E2EE-RETRY-002',
  title:
    'The candidate asks again with retry receipts counting 1 to 5, keys from the second, and never a sixth',
  requirements: ['REQ-E2EE-012', 'REQ-E2EE-013'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const alice = await ctx.peer();
    await converse(ctx, alice);
    const id = `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
    // The message and every re-send of it arrive damaged: the candidate never decrypts it.
    ctx.server.core.fault(
      ctx.candidate.jid,
      { kind: 'tamper', offset: -1 },
      MAX_RETRY + 1,
      (n) => n.tag === 'message' && n.attrs.id === id,
    );
    const seq = ctx.server.transcript.seq;
    const since = ctx.candidate.events.cursor;
    await ctx.step('a message that never decrypts', () =>
      alice.send(ctx.candidate.jid, { type: 'text', text: 'never readable' }, { id }),
    );
    const first = await ctx.step('the first retry receipt', () =>
      untilWire(() => sentRetries(ctx, id, seq).length > 0),
    );
    ctx.demand(
      first,
      'VIO_E2EE_RETRY_MISSING',
      'no retry receipt for a message that failed to decrypt',
      'REQ-E2EE-012',
    );
    const rejected = () => ctx.candidate.events.of('message-rejected', since).filter((e) => e.id === id);
    await ctx.step('the contact re-sends after each retry receipt', () =>
      untilWire(() => rejected().length >= MAX_RETRY + 1, 4000),
    );
    await ctx.step('a fence', () => ctx.fence(alice));
    const retries = sentRetries(ctx, id, seq).map((r) => ({
      count: child(r.node, 'retry')?.attrs.count,
      keys: child(r.node, 'keys') !== undefined,
      registration: child(r.node, 'registration') !== undefined,
    }));
    ctx.note('retry receipts', retries);
    const counts = retries.map((r) => r.count).join(',');
    ctx.must(
      retries.slice(0, MAX_RETRY).every((r, i) => r.count === String(i + 1)),
      'VIO_E2EE_RETRY_MISSING',
      `retry counts ${counts}, not 1 to ${MAX_RETRY}`,
      'REQ-E2EE-012',
    );
    ctx.must(
      retries.length >= MAX_RETRY,
      'VIO_E2EE_RETRY_MISSING',
      `only ${retries.length} retry receipts for a message that never decrypted`,
      'REQ-E2EE-012',
    );
    ctx.must(
      retries.every((r) => r.registration),
      'VIO_E2EE_RETRY_MISSING',
      'a retry receipt lacks <registration>',
      'REQ-E2EE-012',
    );
    ctx.must(
      retries.every((r, i) => r.keys === i > 0),
      'VIO_E2EE_RETRY_MISSING',
      `<keys> on retries: ${retries.map((r) => (r.keys ? 'yes' : 'no')).join(',')}; absent on the first, present from the second`,
      'REQ-E2EE-012',
    );
    ctx.must(
      retries.length <= MAX_RETRY,
      'VIO_E2EE_RETRY_MISSING',
      `${retries.length} retry receipts for one message: more than ${MAX_RETRY}`,
      'REQ-E2EE-013',
    );
    ctx.must(
      !ctx.candidate.events.of('message-received', since).some((e) => e.id === id),
      'VIO_E2EE_TAMPER_ACCEPTED',
      'a damaged copy was shown',
      'REQ-E2EE-012',
    );
  },
});
