// junit.xml for CI: one <testsuite> per area, one <testcase> per scenario run (classname = area,
// name = `ID variant (profile)`). FAIL and TIMEOUT are <failure> with the codes and messages,
// ERROR is <error> (a harness fault, not the candidate's), NOT_APPLICABLE is <skipped>, and a
// pass with only SHOULD findings (NON_STRICT) passes with a <system-out> note, so CI stays green
// but the finding is visible.

import { XMLBuilder } from 'fast-xml-parser';
import { areaOf } from '../scenario/define.ts';
import type { ReportInput } from './input.ts';
import type { ResultLine } from './results.ts';

export const JUNIT_FILE = 'junit.xml';

type Node = Record<string, unknown>;

/**
 * Text XML 1.0 can carry: stanzas of hostile scenarios hold control characters and lone
 * surrogates, which no XML parser would accept back. Each becomes a visible \uXXXX.
 */
export function xmlSafe(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: exactly the characters XML 1.0 cannot carry
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function oneLine(text: string): string {
  return xmlSafe(text.split('\n')[0] ?? '');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function findingLines(r: ResultLine): string[] {
  return r.findings.map((f) => `${f.level} ${f.code} ${f.requirement} at step "${f.step}": ${f.message}`);
}

function details(r: ResultLine): string {
  const lines = [
    ...findingLines(r),
    ...(r.reason ? [r.reason] : []),
    `requirements: ${r.requirements.join(' ')}`,
    ...(r.evidencePath ? [`evidence: ${r.evidencePath}`] : []),
    ...(r.driverLogPath ? [`driver calls: ${r.driverLogPath}`] : []),
  ];
  return xmlSafe(lines.join('\n'));
}

function testcase(r: ResultLine): Node {
  const node: Node = {
    '@_classname': areaOf(r.id),
    '@_name': xmlSafe(`${r.id} ${r.variant} (${r.profile})`),
    '@_time': seconds(r.durationMs),
  };
  switch (r.outcome) {
    case 'FAIL':
    case 'TIMEOUT': {
      const first = r.findings[0];
      node.failure = {
        '@_type': first?.code ?? r.outcome,
        '@_message': oneLine(
          first ? `${first.code} ${first.requirement}: ${first.message}` : `${r.outcome}: ${r.reason ?? ''}`,
        ),
        '#text': details(r),
      };
      break;
    }
    case 'ERROR': {
      const code = /^(HRN_ERR_[A-Z_]+)/.exec(r.reason ?? '')?.[1] ?? 'HRN_ERR_INTERNAL';
      node.error = { '@_type': code, '@_message': oneLine(r.reason ?? code), '#text': details(r) };
      break;
    }
    case 'NOT_APPLICABLE':
      node.skipped = { '@_message': oneLine(r.reason ?? 'not applicable') };
      break;
    case 'NON_STRICT':
      node['system-out'] = xmlSafe(`NON_STRICT: passed with SHOULD findings\n${details(r)}`);
      break;
    case 'INFORMATIONAL':
      node['system-out'] = 'INFORMATIONAL: behaviour recorded, nothing asserted (MAY)';
      break;
    case 'PASS':
      break;
  }
  return node;
}

function counts(runs: readonly ResultLine[]) {
  return {
    '@_tests': runs.length,
    '@_failures': runs.filter((r) => r.outcome === 'FAIL' || r.outcome === 'TIMEOUT').length,
    '@_errors': runs.filter((r) => r.outcome === 'ERROR').length,
    '@_skipped': runs.filter((r) => r.outcome === 'NOT_APPLICABLE').length,
    '@_time': seconds(runs.reduce((t, r) => t + r.durationMs, 0)),
  };
}

export function junitXml(input: ReportInput): string {
  const areas = new Map<string, ResultLine[]>();
  for (const r of input.results) {
    const area = areaOf(r.id);
    const list = areas.get(area) ?? [];
    list.push(r);
    areas.set(area, list);
  }
  const { meta } = input;
  const properties = [
    ['harness', meta.harnessVersion],
    ['contract', meta.contractVersion],
    ['seed', meta.seed],
    ['partial', String(meta.partial)],
    ['certified', String(input.summary.certification.certified)],
    ...meta.candidate.map((c) => [`candidate.${c.profile}`, `${c.name} ${c.version}`]),
  ].map(([name, value]) => ({ '@_name': name, '@_value': xmlSafe(value ?? '') }));
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': 'interop-cert',
      ...counts(input.results),
      testsuite: [...areas.entries()].map(([area, runs]) => ({
        '@_name': area,
        ...counts(runs),
        ...(meta.startedAt ? { '@_timestamp': meta.startedAt.replace(/Z$/, '') } : {}),
        properties: { property: properties },
        testcase: runs.map(testcase),
      })),
    },
  };
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    textNodeName: '#text',
    format: true,
    suppressEmptyNode: true,
  });
  return builder.build(doc) as string;
}
