import { defineScenario } from '../../../harness/scenario/define.ts';
import { refusesForgedBundle } from './forged.ts';

export default defineScenario({
  id: 'KEYS-FORGED-002',
  title:
    "A peer's bundle whose Kyber prekey signature does not verify is refused: nothing is encrypted to it",
  requirements: ['REQ-KEYS-007'],
  level: 'MUST',
  kind: 'security',
  profiles: ['signal-pqxdh'],
  async run(ctx) {
    await refusesForgedBundle(ctx, 'kyber-prekey', 'REQ-KEYS-007');
  },
});
