import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'ROBUST-HOSTILE-001',
  title: 'After hostile stanzas the candidate shows nothing and keeps working',
  requirements: ['REQ-ROBUST-001', 'REQ-ROBUST-003', 'REQ-ROBUST-004', 'REQ-ROBUST-008'],
  level: 'MUST',
  kind: 'robustness',
  variants: {
    malformed: {
      frame: '<message from="491700000000@s.whatsapp.net" id="3EB0AAAA" t="1"><enc v="2"',
      req: 'REQ-ROBUST-001',
    },
    'unknown-kind': {
      frame: '<teleport from="s.whatsapp.net" id="x1"><beam/></teleport>',
      req: 'REQ-ROBUST-003',
    },
    doctype: { frame: '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><x>&a;&a;&a;</x>', req: 'REQ-ROBUST-008' },
    'binary-garbage': { frame: '\u0000\u0001\u0002<<<>>>', req: 'REQ-ROBUST-008' },
    // The billion laughs: ten entities of ten references each, nine levels deep.
    'entity-bomb': {
      frame: `<!DOCTYPE m [<!ENTITY l0 "lol">${Array.from(
        { length: 9 },
        (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`,
      ).join(
        '',
      )}]><message from="491700000000@s.whatsapp.net" id="3EB0BOMB" type="text" t="1">&l9;</message>`,
      req: 'REQ-ROBUST-008',
    },
    'deep-nesting': {
      frame: `<message from="491700000000@s.whatsapp.net" id="3EB0DEEP" type="text" t="1">${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</message>`,
      req: 'REQ-ROBUST-008',
    },
    'attribute-flood': {
      frame: `<message from="491700000000@s.whatsapp.net" id="3EB0ATTR" type="text" t="1" ${Array.from(
        { length: 2000 },
        (_, i) => `a${i}="${i}"`,
      ).join(' ')}/>`,
      req: 'REQ-ROBUST-008',
    },
    'huge-attribute': {
      frame: `<message from="491700000000@s.whatsapp.net" id="3EB0HUGE" type="text" t="${'9'.repeat(500_000)}"/>`,
      req: 'REQ-ROBUST-008',
    },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    const since = ctx.candidate.events.cursor;
    await ctx.step('the server sends a hostile frame', () =>
      ctx.server.core.injectRaw(ctx.candidate.jid, ctx.variant.frame),
    );
    await ctx.step('a fence message is still shown', () => ctx.fence(alice));
    const shown = ctx.candidate.events.of('message-received', since).filter((e) => e.from !== alice.jid);
    ctx.must(
      shown.length === 0,
      'VIO_ROBUST_FENCE_MISSED',
      'something from the hostile frame was shown',
      ctx.variant.req,
    );
  },
});
