/**
 * The runtime's code that only some configurations use, imported when they
 * do: the MCP client (the MCP SDK, ajv, the protocol's schemas), the Lambda
 * client (Lambda tools) and the Secrets Manager client (outside providers'
 * keys, MCP servers' tokens). The handler's bundle keeps each a chunk of its
 * own (lib/runtime/runtime-bundle.ts, `handlerBuildOptions`).
 *
 * Every dynamic import of the runtime is here, for one-file bundles: esbuild
 * inlines a dynamic import behind a lazy initializer, and zod's modules,
 * shared with the eager code, then initialize out of order ("Class is not a
 * constructor" at import). A one-file bundle of the runtime (the local
 * playground's) replaces this module with optional-modules.eager.ts
 * (`eagerOptionalModules` in lib/runtime/runtime-bundle.ts).
 */
import type * as LambdaSdk from '@aws-sdk/client-lambda';
import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type * as McpServers from './agent/mcp-servers';

export interface OptionalModules {
  mcpServers(): Promise<typeof McpServers>;
  lambdaClient(): Promise<typeof LambdaSdk>;
  secretsManagerClient(): Promise<typeof SecretsManagerSdk>;
}

export const optionalModules: OptionalModules = {
  mcpServers: () => import('./agent/mcp-servers.js'),
  lambdaClient: () => import('@aws-sdk/client-lambda'),
  secretsManagerClient: () => import('@aws-sdk/client-secrets-manager'),
};
