// DIR/report.html: Allure's single-file report of DIR/allure-results, made to be read offline
// from file://. allure-commandline needs Java; without it the run goes on with a one-line reason
// (allure-results/ is still there for any Allure tool). The generated file is post-processed so
// that it cannot load anything from the network: see neutraliseExternal and docs/HTML-REPORT.md.

import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { ALLURE_RESULTS_DIR } from './allure.ts';

export const HTML_REPORT_FILE = 'report.html';

export type HtmlReportResult =
  | {
      readonly ok: true;
      /** DIR/report.html */
      readonly path: string;
      readonly bytes: number;
      /** Time spent in `allure generate`. */
      readonly generateMs: number;
      /** What the post-processing removed (external scripts, links), one line each. */
      readonly neutralised: readonly string[];
    }
  | { readonly ok: false; readonly reason: string };

export interface HtmlReportOptions {
  /** Environment to look for Java in and to run allure with (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Give up on `allure generate` after this long (default 180 s). */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 180_000;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The java the allure launcher will run, found the way the launcher looks for it: JAVA_HOME
 * first, then PATH. Undefined when there is none.
 */
export function findJava(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exe = process.platform === 'win32' ? 'java.exe' : 'java';
  if (env.JAVA_HOME) {
    const candidates = [join(env.JAVA_HOME, 'jre', 'sh', exe), join(env.JAVA_HOME, 'bin', exe)];
    // The launcher refuses a JAVA_HOME without java rather than falling back to PATH.
    return candidates.find(executable);
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, exe))) return join(dir, exe);
  }
  return undefined;
}

function allureLauncher(): string {
  const pkg = createRequire(import.meta.url).resolve('allure-commandline/package.json');
  return join(dirname(pkg), 'dist', 'bin', process.platform === 'win32' ? 'allure.bat' : 'allure');
}

function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      // The tail is what explains a failure; a long log must not grow without bound.
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}\n${e.message}`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

/** The policy the report declares: it may use only what it holds (data: and blob: URLs). */
export const REPORT_CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline' data: blob:",
  "style-src 'unsafe-inline' data: blob:",
  'img-src data: blob:',
  'font-src data:',
  'connect-src data: blob:',
  'media-src data: blob:',
  'frame-src data: blob:',
  'worker-src data: blob:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const EXTERNAL = /^\s*(?:https?:)?\/\//i;

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

/**
 * Makes Allure's single file unable to reach the network: removes scripts, stylesheets, images
 * and frames with an http(s) or protocol-relative address and the inline analytics bootstrap
 * (Allure adds Google Analytics unless ALLURE_NO_ANALYTICS is set), then declares a
 * Content-Security-Policy that allows only data: and blob: resources, so anything a later Allure
 * version adds is blocked by the browser rather than fetched. Sets the page title.
 */
export function neutraliseExternal(html: string, title?: string): { html: string; removed: string[] } {
  const removed: string[] = [];
  let out = html.replace(/<script\b[^>]*>[\s\S]*?<\/script\s*>/gi, (block) => {
    const open = block.slice(0, block.indexOf('>') + 1);
    const src = attr(open, 'src');
    if (src !== undefined && EXTERNAL.test(src)) {
      removed.push(`script ${src}`);
      return '';
    }
    // The analytics bootstrap is inline; the app's own scripts are data: URLs or tiny loaders.
    if (src === undefined && /googletagmanager|\bgtag\s*\(|google-analytics/i.test(block)) {
      removed.push('inline analytics script');
      return '';
    }
    return block;
  });
  out = out.replace(/<(link|img|iframe|source|embed|object|audio|video)\b[^>]*>/gi, (tag) => {
    const url = attr(tag, 'href') ?? attr(tag, 'src') ?? attr(tag, 'data');
    if (url !== undefined && EXTERNAL.test(url)) {
      removed.push(`${tag.slice(1).split(/[\s>]/)[0]?.toLowerCase()} ${url}`);
      return '';
    }
    return tag;
  });
  out = out.replace(/<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy[^>]*>/gi, '');
  const meta = `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`;
  // The policy must come before the first script to cover it.
  out = /<head\b[^>]*>/i.test(out)
    ? out.replace(/<head\b[^>]*>/i, (head) => `${head}\n    ${meta}`)
    : `${meta}\n${out}`;
  if (title !== undefined) {
    const escaped = title.replace(
      /[&<>"]/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c,
    );
    out = out.replace(/<title>[\s\S]*?<\/title>/i, `<title>${escaped}</title>`);
  }
  return { html: out, removed };
}

function reportTitle(resultsDir: string): string | undefined {
  try {
    const executor = JSON.parse(readFileSync(join(resultsDir, 'executor.json'), 'utf8')) as {
      reportName?: unknown;
    };
    return typeof executor.reportName === 'string' ? executor.reportName : undefined;
  } catch {
    return undefined;
  }
}

const lastLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop() ?? '';

/**
 * Builds DIR/report.html from DIR/allure-results with `allure generate --single-file`. Never
 * throws: without Java, or when allure fails, it returns the reason in one line. A report.html
 * is replaced only by a complete one; when none can be built, an earlier one is removed, so the
 * directory never shows the report of another run next to this run's results.
 */
export async function generateHtmlReport(
  dir: string,
  options: HtmlReportOptions = {},
): Promise<HtmlReportResult> {
  const resultsDir = join(dir, ALLURE_RESULTS_DIR);
  if (!existsSync(resultsDir))
    return { ok: false, reason: `no ${ALLURE_RESULTS_DIR}/ in ${dir}: report.html skipped` };
  const result = await build(dir, resultsDir, options);
  if (!result.ok) rmSync(join(dir, HTML_REPORT_FILE), { force: true });
  return result;
}

async function build(dir: string, resultsDir: string, options: HtmlReportOptions): Promise<HtmlReportResult> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!findJava(env))
    return { ok: false, reason: `Java not found: ${ALLURE_RESULTS_DIR}/ written, report.html skipped` };
  let tmp: string | undefined;
  try {
    // Staged beside the target, so the final rename stays on one file system.
    tmp = mkdtempSync(join(dir, '.report-'));
    const out = join(tmp, 'out');
    const started = Date.now();
    const { code, output, timedOut } = await run(
      allureLauncher(),
      ['generate', '--single-file', '--clean', resultsDir, '-o', out],
      { ...env, ALLURE_NO_ANALYTICS: 'true' },
      timeoutMs,
    );
    const generateMs = Date.now() - started;
    const index = join(out, 'index.html');
    if (timedOut)
      return { ok: false, reason: `allure generate took longer than ${timeoutMs} ms: report.html skipped` };
    if (code !== 0 || !existsSync(index)) {
      return {
        ok: false,
        reason: `allure generate failed (exit ${code}): ${lastLine(output) || 'no output'}; report.html skipped`,
      };
    }
    const { html, removed } = neutraliseExternal(readFileSync(index, 'utf8'), reportTitle(resultsDir));
    const staged = join(tmp, HTML_REPORT_FILE);
    writeFileSync(staged, html);
    const path = join(dir, HTML_REPORT_FILE);
    renameSync(staged, path);
    return { ok: true, path, bytes: Buffer.byteLength(html), generateMs, neutralised: removed };
  } catch (e) {
    return { ok: false, reason: `report.html skipped: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
