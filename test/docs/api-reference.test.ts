/**
 * The API reference (`npm run docs:api`) is TypeDoc's rendering of the doc
 * comments, so a name without one is a blank entry there. This test reads
 * TypeDoc's JSON of the four public entry points (the package, /agent,
 * /client, /testing) and names every exported declaration, member and
 * method without a summary, and every optional prop of a `...Props` or
 * `...Options` interface without `@default` (the aws-cdk-lib convention:
 * a reader must learn what leaving it out does).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The part of TypeDoc's JSON schema this test reads. */
interface Reflection {
  id: number;
  name: string;
  kind: number;
  flags?: { isOptional?: boolean; isPrivate?: boolean; isProtected?: boolean; isExternal?: boolean };
  comment?: { summary?: Array<{ text: string }>; blockTags?: Array<{ tag: string }> };
  signatures?: Reflection[];
  getSignature?: Reflection;
  children?: Reflection[];
  inheritedFrom?: unknown;
  extendedTypes?: Array<{ type: string; target?: unknown }>;
}

/** TypeDoc's ReflectionKind values for what a reader looks up. */
const KIND = { variable: 32, function: 64, class: 128, interface: 256, property: 1024, method: 2048, accessor: 262144, typeAlias: 2097152 } as const;
const DECLARATIONS = new Set<number>([KIND.variable, KIND.function, KIND.class, KIND.interface, KIND.typeAlias]);
const MEMBERS = new Set<number>([KIND.property, KIND.method, KIND.accessor]);

let entryPoints: Reflection[];
/** Every reflection of the project by id, to find the interfaces an interface extends. */
const byId = new Map<number, Reflection>();

beforeAll(() => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'api-reference-')), 'api.json');
  const root = path.resolve(__dirname, '..', '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--json', out, '--logLevel', 'Error'], {
    cwd: root,
    stdio: 'pipe',
  });
  entryPoints = (JSON.parse(fs.readFileSync(out, 'utf8')) as Reflection).children ?? [];
  const index = (reflection: Reflection): void => {
    byId.set(reflection.id, reflection);
    reflection.children?.forEach(index);
  };
  entryPoints.forEach(index);
}, 180_000);

test('TypeDoc reads the four public entry points', () => {
  expect(entryPoints.map((entry) => entry.name).sort()).toEqual(['client', 'lambda/agent/agent', 'lib', 'local/testing']);
});

test('every exported declaration, member and method has a summary', () => {
  const undocumented = entryPoints.flatMap((entry) => withoutSummary(entry));
  expect(undocumented).toEqual([]);
});

test('every optional prop of a Props or Options interface says its @default', () => {
  const withoutDefault = entryPoints.flatMap((entry) =>
    declarationsOf(entry)
      .filter((declaration) => /(Props|Options)$/.test(declaration.name))
      .flatMap((declaration) =>
        membersOf(declaration)
          .filter((member) => member.kind === KIND.property && member.flags?.isOptional && !hasTag(member, '@default'))
          .map((member) => `${entry.name}: ${declaration.name}.${member.name}`),
      ),
  );
  expect(withoutDefault).toEqual([]);
});

function withoutSummary(entry: Reflection): string[] {
  return declarationsOf(entry).flatMap((declaration) => [
    ...(hasSummary(declaration) && !inheritsSummary(declaration) ? [] : [`${entry.name}: ${declaration.name}`]),
    ...membersOf(declaration)
      .filter((member) => !hasSummary(member))
      .map((member) => `${entry.name}: ${declaration.name}.${member.name}`),
  ]);
}

function declarationsOf(entry: Reflection): Reflection[] {
  return (entry.children ?? []).filter((child) => DECLARATIONS.has(child.kind));
}

/** A class's or interface's own public members (inherited ones are documented where they are declared). */
function membersOf(declaration: Reflection): Reflection[] {
  if (declaration.kind !== KIND.class && declaration.kind !== KIND.interface) return [];
  return (declaration.children ?? []).filter(
    (member) => MEMBERS.has(member.kind) && !member.inheritedFrom && !member.flags?.isPrivate && !member.flags?.isProtected,
  );
}

/** A summary on the declaration itself, or on its (first) call or get signature, where TypeDoc puts a function's comment. */
function hasSummary(reflection: Reflection): boolean {
  const commented = [reflection, ...(reflection.signatures ?? []), ...(reflection.getSignature ? [reflection.getSignature] : [])];
  return commented.some((each) => (each.comment?.summary ?? []).some((part) => part.text.trim() !== ''));
}

/**
 * TypeDoc gives an interface without a comment the comment of the interface it
 * extends (`StepSummary extends ServedBy` read "What served a step or an
 * answer."): a summary that is its parent's word for word is not its own.
 */
function inheritsSummary(declaration: Reflection): boolean {
  const own = summaryOf(declaration);
  return (declaration.extendedTypes ?? []).some((extended) => {
    const parent = typeof extended.target === 'number' ? byId.get(extended.target) : undefined;
    return parent !== undefined && summaryOf(parent) === own;
  });
}

function summaryOf(reflection: Reflection): string {
  return (reflection.comment?.summary ?? []).map((part) => part.text).join('');
}

function hasTag(reflection: Reflection, tag: string): boolean {
  return (reflection.comment?.blockTags ?? []).some((block) => block.tag === tag);
}
