// Deterministic ids for peers: the same seed gives the same message and iq ids, so a run can
// be replayed and transcripts compared. Message ids follow WhatsApp Web's shape: 3EB0 and 18
// upper-case hex digits (docs/PROFILE.md §3).

import { createHash } from 'node:crypto';

export interface IdSource {
  messageId(): string;
  stanzaId(): string;
}

export function seededIds(seed: string): IdSource {
  let n = 0;
  const next = (): string => {
    n += 1;
    return createHash('sha256').update(`${seed}\u0000${n}`).digest('hex').toUpperCase();
  };
  let iq = 0;
  return {
    messageId: () => `3EB0${next().slice(0, 18)}`,
    stanzaId: () => {
      iq += 1;
      return `${seed.replace(/[^A-Za-z0-9]/g, '').slice(0, 12) || 'p'}.${iq}`;
    },
  };
}
