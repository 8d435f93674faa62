/**
 * Every TypeScript code block of README.md and docs/*.md compiles against the
 * package, as a reader would paste it. Each block is a module of its own in a
 * directory per page; a block whose first line names a file (`// tools.ts`)
 * (or `// test/agent.test.ts`) is that file, so other blocks of the page may
 * import it. A fragment's
 * context (what a reader has from the text around it: `app`, `scope`, the
 * imports) is in an HTML comment just before its fence, which renderers hide:
 *
 *   <!-- typecheck-context
 *   import { App } from 'aws-cdk-lib';
 *   declare const app: App;
 *   -->
 */
import * as path from 'node:path';
import ts from 'typescript';
import { ROOT, readDocPages } from './doc-pages';

interface CodeBlock {
  readonly page: string;
  /** The fence's line in the page (1-based), for the failure message. */
  readonly line: number;
  readonly language: 'ts' | 'tsx';
  readonly context: string;
  readonly code: string;
}

const FENCE = /^```(ts|typescript|tsx)\s*$/;
const CONTEXT_START = '<!-- typecheck-context';

/** The TypeScript blocks of one page, with the hidden context before each. */
function codeBlocks(page: string, text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = FENCE.exec(lines[index]);
    if (!fence) continue;
    const end = lines.findIndex((line, at) => at > index && line.startsWith('```'));
    blocks.push({
      page,
      line: index + 1,
      language: fence[1] === 'tsx' ? 'tsx' : 'ts',
      context: contextBefore(lines, index),
      code: lines.slice(index + 1, end).join('\n'),
    });
    index = end;
  }
  return blocks;
}

/** The body of a `typecheck-context` comment ending on the line before the fence, or ''. */
function contextBefore(lines: readonly string[], fenceIndex: number): string {
  if (lines[fenceIndex - 1]?.trim() !== '-->') return '';
  const start = lines.lastIndexOf(CONTEXT_START, fenceIndex - 1);
  return start < 0 ? '' : lines.slice(start + 1, fenceIndex - 1).join('\n');
}

/** Where a block lives: its named file (`// tools.ts`) or block-<line>, in a directory per page beside the repository's node_modules. */
function virtualPath(block: CodeBlock): string {
  const named = /^\/\/ ([\w./-]+\.tsx?)\b/.exec(block.code)?.[1];
  const directory = path.join(ROOT, '.doc-blocks', block.page.replace(/[/.]/g, '_'));
  return path.join(directory, named ?? `block-${block.line}.${block.language}`);
}

/**
 * Compiler options: the repository's strictness, the package's names mapped to
 * its sources as tsconfig.json maps them, modules as a bundler or a modern
 * Node project resolves them (top-level await allowed), React's JSX.
 */
function compilerOptions(): ts.CompilerOptions {
  const configFile = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), (file) => ts.sys.readFile(file));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  return {
    ...options,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    jsx: ts.JsxEmit.ReactJSX,
    types: ['node'],
    // Examples name what a reader will use (destructured inputs, a returned value) without using all of it.
    noUnusedLocals: false,
    noUnusedParameters: false,
    noEmit: true,
    declaration: false,
  };
}

function compile(blocks: readonly CodeBlock[]): readonly ts.Diagnostic[] {
  const sources = new Map(blocks.map((block) => [virtualPath(block), `${block.context}\n${block.code}\nexport {};\n`]));
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (file) => sources.get(path.resolve(file)) ?? readFile(file);
  host.fileExists = (file) => sources.has(path.resolve(file)) || fileExists(file);
  // Module resolution looks for a directory before a file in it: the blocks' directories exist only here.
  host.directoryExists = (directory) =>
    [...sources.keys()].some((file) => file.startsWith(path.resolve(directory) + path.sep)) || ts.sys.directoryExists(directory);
  const rootNames = [...sources.keys(), path.join(ROOT, 'types', 'text-modules.d.ts')];
  const program = ts.createProgram({ rootNames, options, host });
  // Only the blocks' own diagnostics: checking the package's sources is `npm run typecheck`'s job, and would triple the time.
  const blockFiles = program.getSourceFiles().filter((file) => sources.has(path.resolve(file.fileName)));
  return [
    ...program.getOptionsDiagnostics(),
    ...blockFiles.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ];
}

/** A diagnostic as the page's reader would find it: page, block line, message. */
function describe(diagnostic: ts.Diagnostic, blocks: readonly CodeBlock[]): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const block = blocks.find((candidate) => diagnostic.file && virtualPath(candidate) === path.resolve(diagnostic.file.fileName));
  if (!block || !diagnostic.file || diagnostic.start === undefined) return message;
  // The file is the context, a newline, then the code: the code's first line follows the context's lines.
  const codeStart = block.context === '' ? 1 : block.context.split('\n').length;
  const lineInFile = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
  const where = lineInFile < codeStart ? 'its typecheck-context' : `line ${block.line + 1 + lineInFile - codeStart}`;
  return `${block.page}, the block at line ${block.line} (${where}): ${message}`;
}

const BLOCKS = readDocPages().flatMap((page) => codeBlocks(page.file, page.text));

/** A block that misuses the package, compiled with the others: the check must catch it and say where. */
const WRONG: CodeBlock = {
  page: 'docs/made-up.md',
  line: 7,
  language: 'ts',
  context: "import { ModelChain } from 'cdk-multi-region-agent';",
  code: "ModelChain.of('not a model');",
};

let problems: readonly string[];
beforeAll(() => {
  const blocks = [...BLOCKS, WRONG];
  problems = compile(blocks).map((diagnostic) => describe(diagnostic, blocks));
});

test('README and the topic pages have TypeScript blocks, each read whole', () => {
  expect(BLOCKS.filter((block) => block.page === 'README.md').length).toBeGreaterThanOrEqual(2);
  expect(new Set(BLOCKS.map((block) => block.page)).size).toBeGreaterThanOrEqual(8);
  for (const block of BLOCKS) expect(block.code.trim()).not.toBe('');
});

test('every TypeScript block of README and docs/ type-checks against the package', () => {
  expect(problems.filter((problem) => !problem.startsWith(`${WRONG.page},`))).toEqual([]);
});

test('a block that misuses the package fails the check, naming its page and line', () => {
  expect(problems.filter((problem) => problem.startsWith(`${WRONG.page},`))).toEqual([
    expect.stringMatching(/^docs\/made-up\.md, the block at line 7 \(line 8\): Argument of type 'string' is not assignable/),
  ]);
});
