/**
 * The example deployment's regions, read from the CDK app itself (bundling
 * skipped): each runtime's configuration is exactly what its Lambda gets in
 * AGENT_CONFIG, so the playground runs what `cdk deploy` would.
 */
import { createExampleApp } from '../bin/app';
import type { RuntimeConfigInput } from '../lambda/agent/config';

export function exampleRegions(): { configs: RuntimeConfigInput[]; keepLocatedUsers: string[] } {
  const { agent } = createExampleApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  return {
    configs: agent.runtimes.map((runtime) => runtime.runtimeConfig),
    keepLocatedUsers: agent.jurisdictions.filter((jurisdiction) => jurisdiction.geolocations.length > 0).map((jurisdiction) => jurisdiction.name),
  };
}
