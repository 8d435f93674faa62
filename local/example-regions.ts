/**
 * The example deployment's regions, read from the CDK app itself (bundling
 * skipped): each runtime's configuration is exactly what its Lambda gets in
 * AGENT_CONFIG, and its code directory holds the agent files its Lambda
 * gets beside the handler (the bundled agent, the Lambda tools' specs), so
 * the playground runs what `cdk deploy` would; and the dashboard and alarms
 * the synthesized templates hold, for the dashboard preview.
 */
import * as fs from 'node:fs';
import { createExampleApp, EXAMPLE_AGENT, EXAMPLE_US_CHAIN } from '../bin/app';
import type { Jurisdiction } from '../lib';
import { readMonitoring } from './cloudwatch/synthesized';
import { DEFAULT_HEALTH_CHECKS, type PlaygroundOptions } from './playground';

export function exampleRegions(): Pick<PlaygroundOptions, 'configs' | 'keepLocatedUsers' | 'agents' | 'monitoring' | 'healthChecks'> & {
  providerRefusals: string[];
} {
  const { app, agent } = createExampleApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  const [routing] = agent.routings;
  return {
    // The health checks' interval and threshold, as synthesized (every region's are the same).
    healthChecks: {
      ...DEFAULT_HEALTH_CHECKS,
      intervalSeconds: routing.healthCheckIntervalSeconds,
      failureThreshold: routing.healthCheckFailureThreshold,
    },
    // The monitoring stack's dashboard and the region stacks' alarms, as `cdk synth` writes them.
    monitoring: () => {
      const assembly = app.synth();
      try {
        return readMonitoring(assembly);
      } finally {
        fs.rmSync(assembly.directory, { recursive: true, force: true });
      }
    },
    configs: agent.runtimes.map((runtime) => runtime.runtimeConfig),
    providerRefusals: exampleProviderRefusals(agent.jurisdictions),
    keepLocatedUsers: agent.jurisdictions.filter((jurisdiction) => jurisdiction.geolocations.length > 0).map((jurisdiction) => jurisdiction.name),
    agents: Object.fromEntries(
      agent.runtimes.map((runtime) => [runtime.region, { codeDirectory: runtime.codeDirectory, lambdaToolHandlers: EXAMPLE_AGENT.lambdaToolHandlers }]),
    ),
  };
}

/**
 * Why each jurisdiction of the example other than the US refuses the US
 * chain's outside providers: the message synthesis gives for that chain there.
 */
export function exampleProviderRefusals(jurisdictions: readonly Jurisdiction[]): string[] {
  return jurisdictions
    .filter((jurisdiction) => jurisdiction.name !== 'us')
    .flatMap((jurisdiction) =>
      EXAMPLE_US_CHAIN().providerFallbacks.flatMap((model) => {
        try {
          model.assertAllowedIn(jurisdiction);
          return [];
        } catch (error) {
          return [(error as Error).message];
        }
      }),
    );
}
