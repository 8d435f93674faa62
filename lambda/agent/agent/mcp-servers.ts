/**
 * The MCP servers of a runtime, each with its authentication: tokens from
 * Secrets Manager, SigV4 with the runtime's credentials. The runtime imports
 * this module only when its asset names MCP servers (deferred-tool-source.ts):
 * the MCP SDK's client, with ajv and the protocol's schemas it builds at
 * import, was a third of the handler's bundle and of its module init.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Clock } from '../chain/types';
import type { RuntimeConfig } from '../config';
import { SecretValues } from '../providers/secret-values';
import { startedAhead } from '../started-ahead';
import { secretsManagerClient } from '../target-invoker';
import type { McpServerSpec } from './asset-layout';
import { authenticatedFetch } from './mcp-auth';
import { McpServerTools } from './mcp-tools';

export interface McpServersSettings {
  config: RuntimeConfig;
  clock: Clock;
  /** Credentials for local emulators; deployed runtimes use the execution role. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  onProblem: (server: string, problem: string) => void;
}

export function mcpServerTools(specs: readonly McpServerSpec[], settings: McpServersSettings): McpServerTools[] {
  const { config, clock, credentials } = settings;
  const secrets = specs.some((spec) => spec.auth?.kind === 'bearer')
    ? new SecretValues(startedAhead(secretsManagerClient(config, credentials)), config.providerKeyTtlMs, clock)
    : undefined;
  // Only a signing server needs credentials; the default chain is what the AWS SDK's clients use.
  const signing = specs.some((spec) => spec.auth?.kind === 'sigv4') ? (credentials ?? defaultProvider()) : undefined;
  return specs.map(
    (spec) => new McpServerTools(spec, { fetch: authenticatedFetch(spec.auth, { secrets, credentials: signing }), clock, onProblem: settings.onProblem }),
  );
}
