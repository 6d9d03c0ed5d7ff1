// A worker process of the gate: takes jobs from the parent over IPC, answers each with its result.

import { loadScenarios } from '../scenario/loader.ts';
import type { Job } from './job.ts';
import { runJob } from './job.ts';

const scenarios = await loadScenarios();
process.on('message', (job: Job) => {
  runJob(job, scenarios).then(
    (result) => process.send?.({ ok: true, result }),
    (e: unknown) => process.send?.({ ok: false, error: (e as Error)?.stack ?? String(e) }),
  );
});
process.send?.({ ready: true });
