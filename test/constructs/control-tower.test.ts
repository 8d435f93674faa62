import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { CONTROL_TOWER_EXCEPTIONS, createExampleApp } from '../../bin/app';

/**
 * AWS Control Tower's proactive controls, as cfn-guard rules, over every
 * template of the example app (home, region and monitoring stacks), with the
 * cfn-guard binary that @cdklabs/cdk-validator-cfnguard ships for this platform.
 */
let assembly: CloudAssembly;
let report: PolicyValidationPluginReportBeta1;

beforeAll(() => {
  // GIVEN the example app, checked at synthesis with every control but the accepted exceptions (-c controlTower=true)
  const { app } = createExampleApp({ context: { 'aws:cdk:bundling-stacks': [], controlTower: true } });
  // WHEN it synthesizes (a violation would throw here)
  assembly = app.synth();
  // AND every control runs over its templates, the exceptions included
  report = new CfnGuardValidator().validate({
    templatePaths: assembly.stacks.map((stack) => path.join(assembly.directory, stack.templateFile)),
    appConstruct: app,
  });
});

test('checks every stack of the example app: two home stacks, four region stacks and the monitoring stack', () => {
  expect(assembly.stacks.map((stack) => stack.stackName).sort()).toEqual([
    'support-agent-eu-central-1',
    'support-agent-eu-home',
    'support-agent-eu-west-1',
    'support-agent-monitoring',
    'support-agent-us-east-1',
    'support-agent-us-home',
    'support-agent-us-west-2',
  ]);
});

test('no proactive control fails but the accepted one, CT.LAMBDA.PR.3 (functions in a VPC)', () => {
  const failed = new Set(report.violations.map((violation) => violation.description.match(/\[(CT\.[A-Z0-9.]+)\]/)?.[1] ?? violation.ruleName));
  expect([...failed]).toEqual(['CT.LAMBDA.PR.3']);
  expect(CONTROL_TOWER_EXCEPTIONS).toEqual(['ct-lambda-pr-3']);
});

test("the accepted exception is only each region's four functions: the runtime, its target probe, the example's lookup_order tool and delivery MCP server", () => {
  const resources = report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${path.basename(resource.templatePath, '.template.json')} ${resource.resourceLogicalId}`),
  );
  expect(resources.sort()).toEqual(
    ['eu-central-1', 'eu-west-1', 'us-east-1', 'us-west-2'].flatMap((region) => [
      expect.stringMatching(new RegExp(`^support-agent-${region} RuntimeFunction[0-9A-F]{8}$`)),
      expect.stringMatching(new RegExp(`^support-agent-${region} RuntimeProbe[0-9A-F]{8}$`)),
      expect.stringMatching(new RegExp(`^support-agent-${region} ToolsDeliveryMcp[0-9A-F]{8}$`)),
      expect.stringMatching(new RegExp(`^support-agent-${region} ToolsLookupOrder[0-9A-F]{8}$`)),
    ]),
  );
});
