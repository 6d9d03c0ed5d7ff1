// What a scenario's `run` gets: the server and its knobs, the candidate, fresh peers, named
// steps, and the checkers (Complement's split: `match` is pure, `must` records a MUST
// violation, `should` a SHOULD one). Findings never throw: the scenario goes on and every
// failed check is reported; `demand` is the one check that stops the scenario.

import type { ViolationCode } from '../codes.ts';
import type { CryptoProfile } from '../crypto/profile.ts';
import type { CandidateDriver, Manifest } from '../driver/contract.ts';
import type { Peer } from '../peers/peer.ts';
import type { CryptoProfileId, RequirementId, RequirementLevel } from '../requirements/types.ts';
import type { RunningServer } from '../server/server.ts';
import type { CandidateEvents } from './candidate-events.ts';

export interface Finding {
  readonly level: RequirementLevel;
  readonly code: ViolationCode;
  readonly requirement: RequirementId;
  readonly step: string;
  readonly message: string;
}

export interface StepRecord {
  readonly label: string;
  readonly startedAt: number;
  durationMs: number;
  status: 'ok' | 'failed' | 'error';
  error?: string;
}

export interface CandidateHandle {
  readonly driver: CandidateDriver;
  readonly jid: string;
  readonly manifest: Manifest;
  readonly events: CandidateEvents;
}

export interface PeerRequest {
  readonly name?: string;
  readonly optedIn?: boolean;
  readonly preKeyCount?: number;
  /** Another profile than the run's (downgrade and mismatch scenarios). */
  readonly profile?: CryptoProfile;
}

/** Thrown by `demand`: the scenario stops, its findings stand. */
export class StopScenario extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StopScenario';
  }
}

export interface ScenarioContext<V = undefined> {
  readonly id: string;
  readonly variant: V;
  readonly variantName: string;
  readonly profile: CryptoProfileId;
  /** The crypto profile the run's peers speak. */
  readonly peerProfile: CryptoProfile;
  readonly server: RunningServer;
  readonly candidate: CandidateHandle;
  /** A fresh WhatsApp user with an address no other scenario uses, keys uploaded. */
  peer(request?: PeerRequest): Promise<Peer>;
  /** A named step: its timing and failure go to the evidence. */
  step<T>(label: string, fn: () => Promise<T> | T): Promise<T>;
  /** Records a MUST violation when `ok` is false; returns `ok`. */
  must(ok: boolean, code: ViolationCode, message: string, requirement?: RequirementId): boolean;
  /** Records a SHOULD violation (NON_STRICT) when `ok` is false; returns `ok`. */
  should(ok: boolean, code: ViolationCode, message: string, requirement?: RequirementId): boolean;
  /** A MUST check that stops the scenario when it fails (later checks would be meaningless). */
  demand(ok: boolean, code: ViolationCode, message: string, requirement?: RequirementId): void;
  /** Records an observation (MAY behaviour, figures) without asserting anything. */
  note(label: string, data: unknown): void;
  /**
   * Sends a fence message from `peer` and waits until the candidate shows it. Anything `peer`
   * sent before has then been processed: a negative check is decided without a timeout.
   */
  fence(peer: Peer): Promise<void>;
}

export interface ContextState {
  readonly findings: Finding[];
  readonly steps: StepRecord[];
  readonly notes: { label: string; data: unknown }[];
}
