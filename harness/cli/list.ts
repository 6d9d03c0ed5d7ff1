// `interop-cert list scenarios|requirements|faults [--json]` and `interop-cert explain ID`:
// read the catalogue, the scenario files and the reference candidate's faults table without
// running anything.

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { Argument } from 'commander';
import { HarnessError } from '../codes.ts';
import { loadCatalogue } from '../requirements/load.ts';
import { areaOf, variantsOf } from '../scenario/define.ts';
import type { LoadedScenario } from '../scenario/loader.ts';
import { loadScenarios } from '../scenario/loader.ts';
import type { ExitCode, Io } from './main.ts';

const FAULTS_MODULE = new URL('../../fixtures/candidates/reference/faults.ts', import.meta.url);

interface FaultRow {
  readonly name: string;
  readonly area?: string;
  readonly description: string;
  readonly requirements: readonly string[];
  readonly codes: readonly string[];
}

async function loadFaults(): Promise<FaultRow[]> {
  if (!existsSync(FAULTS_MODULE)) return [];
  const mod = (await import(FAULTS_MODULE.href)) as {
    FAULTS?: readonly FaultRow[] | Record<string, FaultRow>;
  };
  const table = mod.FAULTS ?? [];
  return Array.isArray(table) ? [...table] : Object.values(table);
}

function scenarioRow(l: LoadedScenario) {
  const s = l.scenario;
  return {
    id: s.id,
    title: s.title,
    area: areaOf(s.id),
    level: s.level,
    kind: s.kind,
    requirements: s.requirements,
    features: s.features ?? [],
    profiles: s.profiles ?? ['signal-pqxdh', 'signal-x3dh'],
    variants: variantsOf(s).map(([n]) => n),
    file: `suites/${l.file}`,
  };
}

export function registerList(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('list')
    .description('list scenarios, requirements or the reference candidate faults')
    .addArgument(new Argument('<what>', 'what to list').choices(['scenarios', 'requirements', 'faults']))
    .option('--json', 'print JSON')
    .action(async (what: 'scenarios' | 'requirements' | 'faults', opts: { json?: boolean }) => {
      let rows: Record<string, unknown>[];
      let lines: string[];
      if (what === 'requirements') {
        const reqs = loadCatalogue().requirements.filter((r) => !r.retired);
        rows = reqs.map((r) => ({ ...r }));
        lines = reqs.map(
          (r) => `${r.id.padEnd(16)} ${r.level.padEnd(6)} ${r.bugClass.padEnd(15)} ${r.title}`,
        );
      } else if (what === 'scenarios') {
        const list = (await loadScenarios()).map(scenarioRow);
        rows = list;
        lines = list.map(
          (s) => `${s.id.padEnd(20)} ${s.level.padEnd(6)} ${s.title}  [${s.requirements.join(' ')}]`,
        );
      } else {
        const faults = await loadFaults();
        rows = faults.map((f) => ({ ...f }));
        lines = faults.map((f) => `${f.name.padEnd(32)} ${f.description}  [${f.codes.join(' ')}]`);
      }
      if (opts.json) io.out(JSON.stringify(rows, null, 2));
      else {
        for (const l of lines) io.out(l);
        io.out(`${rows.length} ${what}`);
      }
      setExit(0);
    });

  program
    .command('explain')
    .description('a requirement (source, quote, scenarios) or a scenario (requirements)')
    .argument('<id>', 'REQ-AREA-NNN or AREA-TOPIC-NNN')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const catalogue = loadCatalogue();
      const scenarios = await loadScenarios();
      const req = catalogue.byId(id);
      if (req) {
        const doc = catalogue.documentById(req.source.document);
        const checkedBy = scenarios
          .filter((s) => s.scenario.requirements.includes(req.id))
          .map((s) => s.scenario.id);
        if (opts.json) io.out(JSON.stringify({ ...req, document: doc, scenarios: checkedBy }, null, 2));
        else {
          io.out(`${req.id}  ${req.level}  ${req.title}`);
          io.out(`  rule:    ${req.rule}`);
          io.out(`  quote:   "${req.quote}"`);
          io.out(
            `  source:  ${doc?.title ?? req.source.document}, ${req.source.section}${doc?.url ? ` (${doc.url})` : ''}`,
          );
          if (req.source.note) io.out(`  note:    ${req.source.note}`);
          io.out(
            `  area ${req.area}, bug class ${req.bugClass}, profiles ${req.profiles.join(', ')}${req.feature ? `, feature ${req.feature}` : ''}`,
          );
          io.out(`  checked by: ${checkedBy.length > 0 ? checkedBy.join(', ') : 'no scenario yet'}`);
        }
        setExit(0);
        return;
      }
      const found = scenarios.find((s) => s.scenario.id === id);
      if (!found) throw new HarnessError('HRN_ERR_USAGE', `no requirement or scenario ${id}`);
      const row = scenarioRow(found);
      if (opts.json) io.out(JSON.stringify(row, null, 2));
      else {
        io.out(`${row.id}  ${row.level}  ${row.title}`);
        io.out(`  file: ${row.file}`);
        io.out(
          `  kind ${row.kind}, variants ${row.variants.join(', ')}, profiles ${row.profiles.join(', ')}`,
        );
        for (const r of row.requirements) io.out(`  ${r}  ${catalogue.byId(r)?.title ?? '(unknown)'}`);
      }
      setExit(0);
    });
}
