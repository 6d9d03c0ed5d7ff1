import { defineScenario } from '../../../harness/scenario/define.ts';
import { refusesForgedBundle } from './forged.ts';

export default defineScenario({
  id: 'KEYS-FORGED-001',
  title:
    "A peer's bundle whose signed prekey signature does not verify is refused: nothing is encrypted to it",
  requirements: ['REQ-KEYS-006', 'REQ-KEYS-007'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    await refusesForgedBundle(
      ctx,
      'signed-prekey',
      ctx.profile === 'signal-x3dh' ? 'REQ-KEYS-006' : 'REQ-KEYS-007',
    );
  },
});
