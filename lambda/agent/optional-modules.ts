/**
 * The runtime's code that only some configurations use, imported when they
 * do: the MCP client (the MCP SDK, ajv, the protocol's schemas), the Lambda
 * client (Lambda tools), the Secrets Manager client (outside providers'
 * keys, MCP servers' tokens), the outside providers' calls (a chain with a
 * provider target) and the JSON Schema validator of Lambda tools' input.
 * The handler's bundle keeps each a chunk of its own
 * (lib/runtime/runtime-bundle.ts, `handlerBuildOptions`).
 *
 * What every request of a configuration needs is not here, even when only
 * some configurations use it (the shared target health, on by default):
 * importing it here would only move its loading, and the runtime's building
 * that would wait for it, out of Lambda's init to the first request.
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
import type { JsonSchemaValidator } from './agent/json-schema-input';
import type * as McpServers from './agent/mcp-servers';
import type * as OutsideProviders from './providers/outside-providers';

export interface OptionalModules {
  mcpServers(): Promise<typeof McpServers>;
  lambdaClient(): Promise<typeof LambdaSdk>;
  secretsManagerClient(): Promise<typeof SecretsManagerSdk>;
  outsideProviders(): Promise<typeof OutsideProviders>;
  jsonSchemaValidator(): Promise<{ Validator: JsonSchemaValidator }>;
}

export const optionalModules: OptionalModules = {
  mcpServers: () => import('./agent/mcp-servers.js'),
  lambdaClient: () => import('@aws-sdk/client-lambda'),
  secretsManagerClient: () => import('@aws-sdk/client-secrets-manager'),
  outsideProviders: () => import('./providers/outside-providers.js'),
  jsonSchemaValidator: () => import('@cfworker/json-schema'),
};
