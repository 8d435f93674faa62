/**
 * The dashboards and alarms of a synthesized CDK app, read from its stacks'
 * templates as CloudFormation would create them: each
 * `AWS::CloudWatch::Dashboard`'s body with its tokens resolved in its
 * stack's account and region, and every stack's metric alarms (dashboards
 * name alarms of other regions' stacks by ARN).
 */
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { alarmsOfTemplate, type AlarmDefinition } from './alarms';
import { resolveCfn, type CfnEnvironment } from './cfn';
import type { DashboardBody } from './dashboard';

export interface SynthesizedDashboard {
  readonly name: string;
  /** The region of the dashboard's stack: where widgets that name no region look. */
  readonly region: string;
  readonly stackName: string;
  readonly body: DashboardBody;
}

export interface SynthesizedMonitoring {
  readonly dashboards: readonly SynthesizedDashboard[];
  readonly alarms: readonly AlarmDefinition[];
  /** Alarms that could not be read for local evaluation, with why. */
  readonly skippedAlarms: readonly string[];
}

export function readMonitoring(assembly: CloudAssembly): SynthesizedMonitoring {
  const dashboards: SynthesizedDashboard[] = [];
  const alarms: AlarmDefinition[] = [];
  const skippedAlarms: string[] = [];
  for (const stack of assembly.stacks) {
    const env: CfnEnvironment = { region: stack.environment.region, accountId: stack.environment.account, stackName: stack.stackName };
    const template = stack.template as { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::CloudWatch::Dashboard') continue;
      const properties = resource.Properties ?? {};
      const body = resolveCfn(properties.DashboardBody, env, `${stack.stackName}/${logicalId}.DashboardBody`);
      dashboards.push({
        name: String(resolveCfn(properties.DashboardName ?? logicalId, env)),
        region: env.region,
        stackName: stack.stackName,
        body: JSON.parse(String(body)) as DashboardBody,
      });
    }
    const found = alarmsOfTemplate(template, env);
    alarms.push(...found.alarms);
    skippedAlarms.push(...found.skipped.map((why) => `${stack.stackName}: ${why}`));
  }
  return { dashboards, alarms, skippedAlarms };
}
