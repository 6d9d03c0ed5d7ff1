// Test doubles for the server's seams, built from the real parts: a frozen virtual clock and a
// transcript that exposes its events as a list.

import { VirtualClock } from '../clock.ts';
import { Transcript } from '../transcript.ts';
import type { Clock, EventEntry } from '../types.ts';

export const T0 = 1_718_000_000_000;

/** Server time that moves only by advance(). */
export function testClock(start = T0): VirtualClock {
  return new VirtualClock({ start, frozen: true });
}

export class EventTranscript extends Transcript {
  /** The events recorded so far, in order. */
  get events(): EventEntry[] {
    return this.entries().filter((e): e is EventEntry => e.kind === 'event');
  }
}

export function testTranscript(clock: Clock): EventTranscript {
  return new EventTranscript(clock);
}
