/**
 * Loads a Lambda tool's bundled handler from its code asset, as Lambda's
 * Node.js runtime would: an ES module (`.mjs`) or CommonJS (`.js`, `.cjs`),
 * its export named by the function's Handler, its environment variables set
 * while the module initializes and while each call runs. Functions share
 * this process, so a variable two tools set differently holds each tool's
 * value only during its own calls.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { LocalDeploymentError } from './assembly/errors';
import type { LambdaHandler } from './lambda-emulator';
import type { LambdaToolFunction } from './playground';

export async function loadToolHandler(tool: LambdaToolFunction): Promise<LambdaHandler> {
  const module = await withEnvironment(tool.environment, () => importModule(tool.file)).catch((error: unknown) => {
    throw unloadable(tool, `it throws while loading: ${(error as Error).message}`, error);
  });
  const exported = module[tool.exportName] ?? (module.default as Record<string, unknown> | undefined)?.[tool.exportName];
  if (typeof exported !== 'function') throw unloadable(tool, `it exports no function '${tool.exportName}'`);
  const handler = exported as LambdaHandler;
  return (event, context) => withEnvironment(tool.environment, async () => handler(event, context));
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  // An asset holds no package.json: a .js file is CommonJS, as Lambda reads it.
  if (file.endsWith('.mjs')) return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  return createRequire(file)(file) as Record<string, unknown>;
}

async function withEnvironment<T>(environment: Readonly<Record<string, string>>, run: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(environment).map((name) => [name, process.env[name]]));
  Object.assign(process.env, environment);
  try {
    return await run();
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function unloadable(tool: LambdaToolFunction, why: string, cause?: unknown): LocalDeploymentError {
  return new LocalDeploymentError(
    'ToolUnloadable',
    `Lambda tool '${tool.name}' (${tool.source}): its handler ${tool.exportName} cannot be loaded from ${tool.file}: ${why}; fix the tool's entry and synthesize again`,
    { cause },
  );
}
