import type { Peer } from '../../../harness/peers/peer.ts';
import type { ScenarioContext } from '../../../harness/scenario/context.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { CANDIDATE_SUB } from '../../../harness/scenario/environment.ts';
import type { EventEntry, FrameEntry } from '../../../harness/server/types.ts';
import { parseStanza } from '../../../harness/xml/parse.ts';

const RECONNECT_MS = 10_000;

async function nextLogin<V>(ctx: ScenarioContext<V>, seq: number): Promise<EventEntry | undefined> {
  const deadline = Date.now() + RECONNECT_MS;
  while (Date.now() < deadline) {
    const login = ctx.server.transcript
      .slice(seq)
      .find(
        (e): e is EventEntry => e.kind === 'event' && e.event === 'login' && e.address === ctx.candidate.jid,
      );
    if (login) return login;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

// One drop for everything: the server allows ten logins a minute per address, and the whole
// suite shares the candidate's budget.
const PEERS = 2;
const EACH = 2;

export default defineScenario({
  id: 'SESSION-RECONNECT-001',
  title:
    'After a dropped connection the candidate logs in again as enlisted, and shows what was sent meanwhile in order, once',
  requirements: ['REQ-SESSION-007', 'REQ-SESSION-006', 'REQ-SESSION-005'],
  level: 'MUST',
  kind: 'conformance',
  timeoutMs: RECONNECT_MS + 10_000,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const peers: Peer[] = [];
    for (let i = 0; i < PEERS; i++) peers.push(await ctx.peer());
    await ctx.step('each peer has a session with the candidate', async () => {
      for (const p of peers) await ctx.fence(p);
    });
    const seq = ctx.server.transcript.seq;
    const since = ctx.candidate.events.cursor;
    ctx.server.core.cut(jid);
    const sent = await ctx.step('peers send while the candidate is away; the server acks each', async () => {
      const ids: { id: string; from: string; text: string }[] = [];
      for (let n = 0; n < EACH; n++) {
        for (const [i, p] of peers.entries()) {
          const text = `offline ${i}.${n}`;
          const r = await p.send(jid, { type: 'text', text });
          await r.ack;
          ids.push({ id: r.id, from: p.jid, text });
        }
      }
      return ids;
    });
    const login = await ctx.step('the candidate logs in again', () => nextLogin(ctx, seq));
    if (!login) {
      ctx.must(
        false,
        'VIO_SESSION_NO_RECONNECT',
        `no new login within ${RECONNECT_MS / 1000} s`,
        'REQ-SESSION-006',
      );
      // The environment is shared: bring the candidate back for the scenarios after this one.
      await ctx.step('the harness connects the candidate again', () =>
        ctx.candidate.driver.connect({
          httpUrl: ctx.server.httpUrl,
          wsUrl: ctx.server.wsUrl,
          partner: { sub: CANDIDATE_SUB, tokenUrl: ctx.server.tokenUrl ?? '' },
        }),
      );
    }
    if (login) {
      const after = ctx.server.transcript.slice(seq);
      const enlisted = after.filter(
        (e) => e.kind === 'event' && (e.event === 'enlist' || e.event === 'enlisted'),
      );
      ctx.must(
        enlisted.length === 0,
        'VIO_SESSION_NO_RECONNECT',
        'the candidate enlisted again instead of logging in',
        'REQ-SESSION-006',
      );
      const frame = after.find(
        (e): e is FrameEntry =>
          e.kind === 'frame' &&
          e.direction === 'c2s' &&
          e.connection === login.connection &&
          e.stanza.startsWith('<login'),
      );
      const parsed = frame ? parseStanza(frame.stanza) : undefined;
      const attrs = parsed?.ok ? parsed.node.attrs : {};
      const key = ctx.server.core.accounts.get(jid)?.authKey;
      ctx.must(
        attrs.jid === jid && key !== undefined && attrs.authkey === Buffer.from(key).toString('base64'),
        'VIO_SESSION_LOGIN_FAILED',
        `the new login is not as ${jid} with the enlisted key`,
        'REQ-SESSION-005',
      );
      await ctx.step('the candidate reports it is connected', () =>
        ctx.candidate.events.waitFor('connection', (e) => e.state === 'connected', { since }),
      );
    }
    // A fence from each peer comes after its offline messages: once shown, they were processed.
    await ctx.step('a fence from each peer is shown', async () => {
      for (const p of peers) await ctx.fence(p);
    });
    const shown = ctx.candidate.events.of('message-received', since);
    // The order the server delivered them in, as the transcript shows.
    const delivered = ctx.server.transcript
      .slice(seq)
      .filter(
        (e) =>
          e.kind === 'frame' && e.direction === 's2c' && e.address === jid && e.stanza.startsWith('<message'),
      )
      .map((e) => (e.kind === 'frame' ? parseStanza(e.stanza) : undefined))
      .flatMap((p) => (p?.ok && p.node.attrs.offline === '1' ? [p.node.attrs.id ?? ''] : []))
      .filter((id) => sent.some((m) => m.id === id));
    ctx.note('deliveries from the mailbox', delivered.length);
    if (delivered.length < sent.length) {
      // The candidate came back before the peers had sent: the setup missed, not the candidate.
      throw new Error(`only ${delivered.length} of ${sent.length} messages came from the mailbox`);
    }
    const order = shown.map((e) => e.id).filter((id) => sent.some((m) => m.id === id));
    const firstDelivered = delivered.filter((id, i) => delivered.indexOf(id) === i);
    ctx.must(
      JSON.stringify(order) === JSON.stringify(firstDelivered),
      'VIO_SESSION_MAILBOX_ORDER',
      `shown in the order ${order.join(', ')}, delivered in ${firstDelivered.join(', ')}`,
    );
    const acksOf = (id: string) =>
      ctx.server.transcript
        .slice(seq)
        .filter(
          (e) =>
            e.kind === 'frame' &&
            e.direction === 'c2s' &&
            e.address === jid &&
            e.stanza.startsWith('<ack') &&
            e.stanza.includes('class="message"') &&
            e.stanza.includes(`id="${id}"`),
        );
    // Acks cross the socket after the candidate's events: wait until each is on the wire.
    await ctx.step('the candidate acks the messages', async () => {
      for (let i = 0; i < 100 && sent.some((m) => acksOf(m.id).length === 0); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    for (const m of sent) {
      const copies = shown.filter((e) => e.id === m.id && e.from === m.from);
      ctx.must(
        copies.length === 1,
        copies.length === 0 ? 'VIO_MSG_NOT_SHOWN' : 'VIO_SESSION_MAILBOX_TWICE',
        `message ${m.id} shown ${copies.length} times`,
      );
      ctx.must(
        copies.length === 0 || copies[0]?.content.text === m.text,
        'VIO_MSG_CONTENT_MISMATCH',
        `message ${m.id} shown as ${JSON.stringify(copies[0]?.content)}`,
      );
      const acks = acksOf(m.id);
      ctx.must(
        acks.length === 1,
        'VIO_SESSION_MAILBOX_TWICE',
        `message ${m.id} acked ${acks.length} times`,
        'REQ-SESSION-007',
      );
    }
    const first = peers[0];
    if (first) {
      const { id } = await ctx.step('the candidate sends after the reconnect', () =>
        ctx.candidate.driver.send({ to: first.jid, content: { type: 'text', text: 'back online' } }),
      );
      await ctx.step('the WhatsApp user decrypts it', () =>
        first.events.waitFor('message', (e) => e.id === id),
      );
    }
  },
});
