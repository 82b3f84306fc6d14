import { readFileSync } from 'node:fs';
import { removeDir, startServer } from './server-process.js';

/**
 * Series names a Prometheus text exposition declares (`# TYPE` lines), with the `_bucket`,
 * `_sum` and `_count` series that histograms and summaries add.
 */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram' || type === 'summary')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
  }
  return names;
}

// PromQL words that look like names but are not: operators and grouping modifiers.
const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads. PromQL's grammar is small enough to strip what
 * is not a name (strings, label matchers, ranges, label lists, Grafana's `$variables`) and
 * keep identifiers that are not function calls.
 *
 * @example
 * promqlNames('sum by (code) (rate(backline_ingest_events_rejected_total{code!="x"}[5m]))');
 * // ['backline_ingest_events_rejected_total']
 */
export function promqlNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const [, name] of bare.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g))
    if (!keywords.has(name!.toLowerCase())) names.add(name!);
  return [...names];
}

export interface RuleExprs {
  /** Every `expr:` of the file, folded blocks joined into one line. */
  exprs: string[];
  /** The `record:` names the file defines. */
  records: string[];
}

/**
 * The expressions and recorded names of a Prometheus rules file. A reader of the YAML this
 * repository writes (plain, quoted and `>-` folded scalars), not of YAML at large: the test
 * compares its count with the rules `promtool check rules` found.
 */
export function ruleExprs(file: string): RuleExprs {
  const lines = readFileSync(file, 'utf8').split('\n');
  const result: RuleExprs = { exprs: [], records: [] };
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)(?:- )?(expr|record): *(.*)$/.exec(lines[i]!);
    if (!match) continue;
    let value = match[3]!.trim();
    if (/^[>|]-?$/.test(value)) {
      const indent = match[1]!.length;
      const block: string[] = [];
      while (i + 1 < lines.length && /^\s*$|^\s+/.test(lines[i + 1]!)) {
        const next = lines[i + 1]!;
        if (next.trim() !== '' && next.search(/\S/) <= indent) break;
        block.push(next.trim());
        i++;
      }
      value = block.join(' ').trim();
    } else if (/^'.*'$/.test(value)) value = value.slice(1, -1).replace(/''/g, "'");
    else if (/^".*"$/.test(value)) value = JSON.parse(value) as string;
    result[match[2] === 'expr' ? 'exprs' : 'records'].push(value);
  }
  return result;
}

/** Starts the real server, reads the names its `/metrics` declares, and stops it. */
export async function serverMetricNames(): Promise<Set<string>> {
  const server = await startServer();
  try {
    return exposedNames(await (await fetch(`${server.url}/metrics`)).text());
  } finally {
    await server.stop();
    removeDir(server.dataDir);
  }
}

/**
 * Names in `exprs` that are neither exposed by the server, nor recorded by a rule, nor `up`
 * (the series Prometheus itself writes for every target it scrapes).
 */
export function unknownNames(exprs: readonly string[], known: ReadonlySet<string>): string[] {
  const unknown = new Set<string>();
  for (const expr of exprs)
    for (const name of promqlNames(expr)) if (name !== 'up' && !known.has(name)) unknown.add(name);
  return [...unknown];
}
