import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ResolvedTarget } from './model-chain';

const INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];

/**
 * bedrock:InvokeModel* on exactly `targets`: each inference profile by its
 * ARN, and the foundation model in the profile's destination regions only
 * when called through that profile; in-region models by their own ARN.
 */
export function grantBedrockTargets(grantee: iam.IGrantable, stack: Stack, targets: readonly ResolvedTarget[]): void {
  const profileArn = (target: ResolvedTarget) =>
    stack.formatArn({ service: 'bedrock', region: target.region, resource: 'inference-profile', resourceName: target.modelId });
  const modelArn = (region: string, modelId: string) =>
    stack.formatArn({ service: 'bedrock', region: region === '*' ? '' : region, account: '', resource: 'foundation-model', resourceName: modelId });
  const add = (statement: iam.PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
  const viaProfile = targets.filter((target) => target.invocation.geography !== undefined);
  const inRegion = targets.filter((target) => target.invocation.geography === undefined);
  if (viaProfile.length > 0) {
    add(new iam.PolicyStatement({ sid: 'InvokeInferenceProfiles', actions: INVOKE_ACTIONS, resources: unique(viaProfile.map(profileArn)) }));
    for (const [index, modelId] of unique(viaProfile.map((target) => target.model.modelId)).entries()) {
      const profiles = viaProfile.filter((target) => target.model.modelId === modelId);
      add(
        new iam.PolicyStatement({
          sid: `InvokeModelThroughProfile${index}`,
          actions: INVOKE_ACTIONS,
          resources: unique(profiles.flatMap((target) => target.invocation.destinationRegions.map((region) => modelArn(region, modelId)))),
          conditions: { StringEquals: { 'bedrock:InferenceProfileArn': unique(profiles.map(profileArn)) } },
        }),
      );
    }
  }
  if (inRegion.length > 0) {
    add(
      new iam.PolicyStatement({
        sid: 'InvokeInRegionModels',
        actions: INVOKE_ACTIONS,
        resources: unique(inRegion.map((target) => modelArn(target.region, target.modelId))),
      }),
    );
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
