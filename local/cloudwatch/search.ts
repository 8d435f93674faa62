/**
 * The query of a CloudWatch search expression,
 * `{Namespace,DimensionName,…} SearchTerm…`, as a predicate over metrics:
 * - the schema (optional) finds metrics of that namespace with exactly those
 *   dimension names, no more and no fewer;
 * - each term is `Property="value"` (the whole value, exactly),
 *   `Property=value` (part of it, any case), `"value"` or `value` (the same
 *   against the namespace, the metric name and every dimension name and
 *   value); properties are `MetricName`, `Namespace` or a dimension name;
 * - terms side by side must all match; AND, OR, NOT and parentheses combine them.
 * Partial matching here is a case-insensitive substring, simpler than
 * CloudWatch's matching of whole tokens within names.
 */
import type { MetricIdentity } from './metric-store';

export class SearchSyntaxError extends Error {}

type Term = { kind: 'match'; property?: string; value: string; exact: boolean } | { kind: 'not'; term: Term } | { kind: 'and' | 'or'; terms: Term[] };

export interface SearchQuery {
  readonly namespace?: string;
  readonly dimensionNames?: readonly string[];
  matches(metric: MetricIdentity): boolean;
}

export function parseSearch(query: string): SearchQuery {
  let rest = query.trim();
  let namespace: string | undefined;
  let dimensionNames: string[] | undefined;
  if (rest.startsWith('{')) {
    const end = rest.indexOf('}');
    if (end < 0) throw new SearchSyntaxError(`the metric schema of '${query}' has no closing brace`);
    const names = splitSchema(rest.slice(1, end));
    if (names.length === 0 || !names[0]) throw new SearchSyntaxError(`the metric schema of '${query}' names no namespace`);
    [namespace, ...dimensionNames] = names;
    rest = rest.slice(end + 1);
  }
  const term = parseTerms(tokenize(rest), query);
  if (!namespace && !term) throw new SearchSyntaxError(`'${query}' has neither a metric schema nor a search term`);
  return {
    namespace,
    dimensionNames,
    matches: (metric) => {
      if (namespace !== undefined) {
        if (metric.namespace !== namespace) return false;
        const names = Object.keys(metric.dimensions);
        if (names.length !== dimensionNames!.length || !dimensionNames!.every((name) => names.includes(name))) return false;
      }
      return term === undefined || holds(term, metric);
    },
  };
}

function splitSchema(text: string): string[] {
  return [...text.matchAll(/\s*("([^"]*)"|[^,]*)\s*(,|$)/g)].filter((match) => match[0].length > 0).map((match) => (match[2] ?? match[1]).trim());
}

type Token = { property?: string; text: string; quoted: boolean };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // A property with its value (quoted or not), a quoted value, a parenthesis, or a bare word.
  const pattern = /\s*(?:([^\s=()"]+)=(?:"([^"]*)"|([^\s()"]+))|"([^"]*)"|([()])|([^\s()"]+))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) throw new SearchSyntaxError(`cannot read the search term at '${text.slice(at)}'`);
    at = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ property: match[1], text: match[2] ?? match[3], quoted: match[2] !== undefined });
    else if (match[4] !== undefined) tokens.push({ text: match[4], quoted: true });
    else tokens.push({ text: match[5] ?? match[6], quoted: false });
  }
  return tokens;
}

function parseTerms(tokens: Token[], query: string): Term | undefined {
  let position = 0;
  const peek = () => tokens[position];
  const isWord = (word: string) => peek() !== undefined && !peek().quoted && peek().property === undefined && peek().text === word;

  const unit = (): Term => {
    const token = tokens[position++];
    if (!token) throw new SearchSyntaxError(`'${query}' ends where a search term was expected`);
    const bare = !token.quoted && token.property === undefined;
    if (bare && token.text === 'NOT') return { kind: 'not', term: unit() };
    if (bare && token.text === '(') {
      const inner = or();
      if (!isWord(')')) throw new SearchSyntaxError(`'${query}' has an unclosed parenthesis`);
      position++;
      return inner;
    }
    return { kind: 'match', property: token.property, value: token.text, exact: token.quoted };
  };
  const and = (): Term => {
    const terms = [unit()];
    while (peek() && !isWord('OR') && !isWord(')')) {
      if (isWord('AND')) position++;
      terms.push(unit());
    }
    return terms.length === 1 ? terms[0] : { kind: 'and', terms };
  };
  const or = (): Term => {
    const terms = [and()];
    while (isWord('OR')) {
      position++;
      terms.push(and());
    }
    return terms.length === 1 ? terms[0] : { kind: 'or', terms };
  };

  if (tokens.length === 0) return undefined;
  const term = or();
  if (position < tokens.length) throw new SearchSyntaxError(`unexpected '${tokens[position].text}' in '${query}'`);
  return term;
}

function holds(term: Term, metric: MetricIdentity): boolean {
  switch (term.kind) {
    case 'not':
      return !holds(term.term, metric);
    case 'and':
      return term.terms.every((one) => holds(one, metric));
    case 'or':
      return term.terms.some((one) => holds(one, metric));
    case 'match': {
      const candidates =
        term.property === undefined
          ? [metric.namespace, metric.metricName, ...Object.entries(metric.dimensions).flat()]
          : term.property === 'MetricName'
            ? [metric.metricName]
            : term.property === 'Namespace'
              ? [metric.namespace]
              : term.property in metric.dimensions
                ? [metric.dimensions[term.property]]
                : [];
      const needle = term.value.toLowerCase();
      return candidates.some((candidate) => (term.exact ? candidate === term.value : candidate.toLowerCase().includes(needle)));
    }
  }
}
