/**
 * optional-modules.ts for one-file bundles of the runtime: the same modules,
 * imported with the rest (see there why).
 */
import * as jsonSchemaValidator from '@cfworker/json-schema';
import * as lambdaClient from '@aws-sdk/client-lambda';
import * as secretsManagerClient from '@aws-sdk/client-secrets-manager';
import * as mcpServers from './agent/mcp-servers';
import type { OptionalModules } from './optional-modules';
import * as outsideProviders from './providers/outside-providers';

export const optionalModules: OptionalModules = {
  mcpServers: async () => mcpServers,
  lambdaClient: async () => lambdaClient,
  secretsManagerClient: async () => secretsManagerClient,
  outsideProviders: async () => outsideProviders,
  jsonSchemaValidator: async () => jsonSchemaValidator,
};
