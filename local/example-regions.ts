/**
 * The example deployment's regions, read from the CDK app itself (bundling
 * skipped): each runtime's configuration is exactly what its Lambda gets in
 * AGENT_CONFIG, and its code directory holds the agent files its Lambda
 * gets beside the handler (the bundled agent, the Lambda tools' specs), so
 * the playground runs what `cdk deploy` would.
 */
import { createExampleApp, EXAMPLE_AGENT } from '../bin/app';
import type { PlaygroundOptions } from './playground';

export function exampleRegions(): Pick<PlaygroundOptions, 'configs' | 'keepLocatedUsers' | 'agents'> {
  const { agent } = createExampleApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  return {
    configs: agent.runtimes.map((runtime) => runtime.runtimeConfig),
    keepLocatedUsers: agent.jurisdictions.filter((jurisdiction) => jurisdiction.geolocations.length > 0).map((jurisdiction) => jurisdiction.name),
    agents: Object.fromEntries(
      agent.runtimes.map((runtime) => [runtime.region, { codeDirectory: runtime.codeDirectory, lambdaToolHandlers: EXAMPLE_AGENT.lambdaToolHandlers }]),
    ),
  };
}
