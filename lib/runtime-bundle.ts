import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Where the agent runtime's code comes from. In this repository lib/ runs
 * from source and NodejsFunction bundles lambda/agent/index.ts with the
 * local esbuild. In the published package there is no source and no bundler
 * configuration to ask of the consumer, so `npm run build` prebundles the
 * runtime with the same esbuild settings (scripts/bundle-runtime.ts) and the
 * construct uses that asset.
 */
export type RuntimeCodeSource = { kind: 'source'; entry: string; projectRoot: string; lockFile: string } | { kind: 'prebundled'; directory: string };

/** esbuild settings shared by NodejsFunction and the prebundling script. */
export const RUNTIME_BUNDLE_OPTIONS = {
  /** ESM so that top-level initialization is cheap and tree shaking works best. */
  format: 'esm',
  target: 'node22',
  minify: true,
  /** Prefer ESM entry points of dependencies for better tree shaking. */
  mainFields: ['module', 'main'],
  /** Some dependencies still call require(); ESM output needs it defined. */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;

/** File name of the prebundled handler inside its directory (handler `index.handler`). */
export const PREBUNDLED_FILE = 'index.mjs';

export function runtimeCodeSource(libDirectory: string = __dirname): RuntimeCodeSource {
  const prebundled = path.join(libDirectory, '..', 'lambda-bundle', 'agent');
  if (fs.existsSync(path.join(prebundled, PREBUNDLED_FILE))) return { kind: 'prebundled', directory: prebundled };
  const projectRoot = path.join(libDirectory, '..');
  const entry = path.join(projectRoot, 'lambda', 'agent', 'index.ts');
  if (!fs.existsSync(entry)) {
    throw new Error(`cdk-multi-region-agent: neither a prebundled runtime (${prebundled}) nor its source (${entry}) is present; reinstall the package`);
  }
  return { kind: 'source', entry, projectRoot, lockFile: path.join(projectRoot, 'package-lock.json') };
}
