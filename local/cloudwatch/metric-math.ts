/**
 * CloudWatch metric math, the part dashboards of this library use and a
 * little more: numbers, ids of other queries, + - * / ^, comparisons
 * (== != < <= > >=, giving 1 or 0), AND/&& OR/|| NOT, and the functions IF,
 * SEARCH, FILL, ABS, SUM, AVG, MIN and MAX.
 *
 * Time series are aligned on one grid of periods. An operation on two
 * series has a value only where both have one; a series with a scalar
 * applies the scalar to each data point; a division by zero has no value.
 * An operation on an array of series (what SEARCH returns) applies to each.
 */
import type { MetricIdentity } from './metric-store';

export interface Grid {
  /** Start of the first period (ms since the epoch). */
  readonly start: number;
  readonly widthMs: number;
  readonly count: number;
}

export interface Series {
  readonly label: string;
  /** One value per period of the grid; null where the period has no data point. */
  readonly values: ReadonlyArray<number | null>;
  /** The metric behind a series that is one (for dynamic labels). */
  readonly metric?: MetricIdentity & { readonly region: string };
}

export type MathValue = number | Series | Series[];

export interface MathContext {
  readonly grid: Grid;
  /** The value of another query by its id; throws MathError when there is none. */
  id(name: string): MathValue;
  /** SEARCH(query, statistic, period) over the metrics of the expression's region. */
  search(query: string, statistic: string, periodSeconds: number | undefined): Series[];
}

/** What CloudWatch would show as "Error in expression". */
export class MathError extends Error {}

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'id'; name: string }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'unary'; op: '-' | 'NOT'; operand: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node };

interface Token {
  type: 'number' | 'string' | 'name' | 'op' | 'end';
  text: string;
  at: number;
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '+', '-', '*', '/', '^', '<', '>', '(', ')', ','];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const rest = text.slice(at);
    const space = /^\s+/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const number = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(rest);
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    const quote = rest[0] === "'" || rest[0] === '"' ? rest[0] : undefined;
    if (number) tokens.push({ type: 'number', text: number[0], at });
    else if (name) tokens.push({ type: 'name', text: name[0], at });
    else if (quote) {
      const end = text.indexOf(quote, at + 1);
      if (end < 0) throw new MathError(`unterminated string starting at ${at}`);
      tokens.push({ type: 'string', text: text.slice(at + 1, end), at });
      at = end + 1;
      continue;
    } else {
      const op = OPERATORS.find((candidate) => rest.startsWith(candidate));
      if (!op) throw new MathError(`unexpected '${rest[0]}' at ${at}`);
      tokens.push({ type: 'op', text: op, at });
    }
    at += tokens[tokens.length - 1].text.length;
  }
  tokens.push({ type: 'end', text: '', at });
  return tokens;
}

/** Binding strength of binary operators; ^ binds right. */
const PRECEDENCE: Record<string, number> = {
  OR: 1,
  '||': 1,
  AND: 2,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '^': 7,
};
const UNARY_PRECEDENCE = 6;

export function parseExpression(text: string): Node {
  const tokens = tokenize(text);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++];
  const expect = (text: string) => {
    const token = next();
    if (token.text !== text) throw new MathError(`expected '${text}' at ${token.at}, found '${token.text || 'the end'}'`);
  };
  const binaryOp = (token: Token) => ((token.type === 'op' || token.type === 'name') && token.text in PRECEDENCE ? token.text : undefined);

  const primary = (): Node => {
    const token = next();
    if (token.type === 'number') return { kind: 'number', value: Number(token.text) };
    if (token.type === 'string') return { kind: 'string', value: token.text };
    if (token.text === '(') {
      const inner = expression(0);
      expect(')');
      return inner;
    }
    if (token.text === '-' || token.text === 'NOT') return { kind: 'unary', op: token.text, operand: expression(UNARY_PRECEDENCE) };
    if (token.type === 'name') {
      if (peek().text !== '(') return { kind: 'id', name: token.text };
      next();
      const args: Node[] = [];
      if (peek().text !== ')') {
        do args.push(expression(0));
        while (peek().text === ',' && next());
      }
      expect(')');
      return { kind: 'call', name: token.text.toUpperCase(), args };
    }
    throw new MathError(`unexpected '${token.text || 'end of expression'}' at ${token.at}`);
  };

  const expression = (minimum: number): Node => {
    let left = primary();
    for (let op = binaryOp(peek()); op !== undefined && PRECEDENCE[op] > minimum; op = binaryOp(peek())) {
      next();
      // ^ is right-associative: its right side may hold another ^.
      const right = expression(op === '^' ? PRECEDENCE[op] - 1 : PRECEDENCE[op]);
      left = { kind: 'binary', op, left, right };
    }
    return left;
  };

  const tree = expression(0);
  if (peek().type !== 'end') throw new MathError(`unexpected '${peek().text}' at ${peek().at}`);
  return tree;
}

/** Evaluates an expression (text or parsed) in a context of ids and searches. */
export function evaluate(expression: string | Node, context: MathContext): MathValue {
  const tree = typeof expression === 'string' ? parseExpression(expression) : expression;
  return new Evaluator(context).value(tree);
}

const BINARY: Record<string, (a: number, b: number) => number | null> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => (b === 0 ? null : a / b),
  '^': (a, b) => a ** b,
  '==': (a, b) => Number(a === b),
  '!=': (a, b) => Number(a !== b),
  '<': (a, b) => Number(a < b),
  '<=': (a, b) => Number(a <= b),
  '>': (a, b) => Number(a > b),
  '>=': (a, b) => Number(a >= b),
  AND: (a, b) => Number(a !== 0 && b !== 0),
  '&&': (a, b) => Number(a !== 0 && b !== 0),
  OR: (a, b) => Number(a !== 0 || b !== 0),
  '||': (a, b) => Number(a !== 0 || b !== 0),
};

class Evaluator {
  constructor(private readonly context: MathContext) {}

  value(node: Node): MathValue {
    switch (node.kind) {
      case 'number':
        return node.value;
      case 'string':
        throw new MathError(`a string ('${node.value}') is only an argument of SEARCH`);
      case 'id':
        return this.context.id(node.name);
      case 'unary':
        return this.map([this.value(node.operand)], ([value]) => (node.op === '-' ? -value : Number(value === 0)));
      case 'binary': {
        const combine = BINARY[node.op];
        return this.map([this.value(node.left), this.value(node.right)], ([a, b]) => combine(a, b));
      }
      case 'call':
        return this.call(node.name, node.args);
    }
  }

  private call(name: string, args: Node[]): MathValue {
    const arity = (min: number, max = min) => {
      if (args.length < min || args.length > max) throw new MathError(`${name} takes ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
    };
    switch (name) {
      case 'SEARCH': {
        arity(2, 3);
        const [query, stat] = args.slice(0, 2).map((arg) => (arg.kind === 'string' ? arg.value : undefined));
        const period = args[2]?.kind === 'number' ? args[2].value : undefined;
        if (query === undefined || stat === undefined || (args[2] && period === undefined)) {
          throw new MathError("SEARCH takes a quoted query, a quoted statistic and optionally a period: SEARCH('…', 'Sum', 60)");
        }
        return this.context.search(query, stat, period);
      }
      case 'IF': {
        arity(2, 3);
        // Without a false value, the result has no data point where the condition is false.
        const values = args.map((arg) => this.value(arg));
        // Only the branch taken needs a point: 100 * f / r divides by zero where IF(r > 0, …) takes the other branch.
        return this.map(values, ([condition, whenTrue, whenFalse]) => (condition === null ? null : condition !== 0 ? whenTrue : (whenFalse ?? null)), true);
      }
      case 'FILL': {
        arity(2);
        const [series, filler] = [this.value(args[0]), args[1]];
        const fill = (one: Series): Series => {
          if (filler.kind === 'id' && filler.name === 'REPEAT') {
            let last: number | null = null;
            return { ...one, values: one.values.map((value) => (value === null ? last : (last = value))) };
          }
          const constant = this.value(filler);
          if (typeof constant !== 'number') throw new MathError('FILL takes a number or REPEAT as its second argument');
          return { ...one, values: one.values.map((value) => value ?? constant) };
        };
        if (typeof series === 'number') throw new MathError('FILL takes a time series or an array of them');
        return Array.isArray(series) ? series.map(fill) : fill(series);
      }
      case 'ABS':
        arity(1);
        return this.map([this.value(args[0])], ([value]) => Math.abs(value));
      case 'SUM':
      case 'AVG':
      case 'MIN':
      case 'MAX':
        arity(1);
        return this.aggregate(name, this.value(args[0]));
      default:
        throw new MathError(`function ${name} is not one the local preview evaluates`);
    }
  }

  /** SUM/AVG/MIN/MAX: of an array of series, one series point by point; of one series, a scalar over its points. */
  private aggregate(name: 'SUM' | 'AVG' | 'MIN' | 'MAX', value: MathValue): MathValue {
    const reduce = (numbers: number[]): number | null => {
      if (numbers.length === 0) return null;
      if (name === 'SUM') return numbers.reduce((sum, number) => sum + number, 0);
      if (name === 'AVG') return numbers.reduce((sum, number) => sum + number, 0) / numbers.length;
      return name === 'MIN' ? Math.min(...numbers) : Math.max(...numbers);
    };
    const present = (values: ReadonlyArray<number | null>) => values.filter((one): one is number => one !== null);
    if (typeof value === 'number') return value;
    if (!Array.isArray(value)) return reduce(present(value.values)) ?? NaN;
    const values = Array.from({ length: this.context.grid.count }, (_, index) => reduce(present(value.map((series) => series.values[index]))));
    return { label: name, values };
  }

  /**
   * Applies `f` point by point over scalars, series and arrays of series. A
   * point is missing from the result where a series argument misses it,
   * unless `f` takes missing points itself (`seesMissing`).
   */
  private map(args: MathValue[], f: (values: number[]) => number | null, seesMissing = false): MathValue {
    const arrayIndex = args.findIndex((arg) => Array.isArray(arg));
    if (arrayIndex >= 0) {
      const array = args[arrayIndex] as Series[];
      if (args.some((arg, index) => index !== arrayIndex && Array.isArray(arg)))
        throw new MathError('an operation on two arrays of time series is not supported');
      return array.map((series) => this.map(Object.assign([...args], { [arrayIndex]: series }), f, seesMissing) as Series);
    }
    const series = args.find((arg): arg is Series => typeof arg === 'object');
    if (!series) {
      const result = f(args as number[]);
      return result === null ? NaN : result;
    }
    const values = Array.from({ length: this.context.grid.count }, (_, index) => {
      const points = args.map((arg) => (typeof arg === 'number' ? arg : (arg as Series).values[index]));
      const missing = points.some((point) => point === null || Number.isNaN(point));
      if (missing && !seesMissing) return null;
      const result = f(points.map((point) => (point === null || Number.isNaN(point) ? null : point)) as number[]);
      return result === null || !Number.isFinite(result) ? null : result;
    });
    return { label: series.label, metric: series.metric, values };
  }
}
