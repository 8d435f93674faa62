import { Stack, Stage, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { IConstruct } from 'constructs';
import { ConversationTable } from '../state/conversation-table';
import { MultiRegionAgentError } from '../errors';

/**
 * What a runtime's stack must be deployed after, found in the runtime's own
 * app (its Stage): `cdk deploy --all` orders stacks by their dependencies
 * only, and by-name references (tables, API Gateway's account settings) make
 * none by themselves.
 */

/** Whether `stack` depends on `other`, directly or through other stacks. */
export function dependsOn(stack: Stack, other: Stack, seen = new Set<Stack>()): boolean {
  for (const dependency of stack.dependencies) {
    if (dependency === other) return true;
    if (seen.has(dependency)) continue;
    seen.add(dependency);
    if (dependsOn(dependency, other, seen)) return true;
  }
  return false;
}

/** Constructs of `scope`'s own Stage (not of nested Stages, whose stacks cannot be dependencies). */
function inSameStage<T extends IConstruct>(scope: IConstruct, match: (construct: IConstruct) => construct is T): T[] {
  const stage = Stage.of(scope);
  const root = stage ?? scope.node.root;
  return root.node.findAll().filter((construct): construct is T => match(construct) && Stage.of(construct) === stage);
}

/**
 * Refuses a runtime that reads a table by name (`ConversationTable.fromJurisdiction`)
 * when the app defines that table in a stack the runtime's stack does not
 * depend on: `cdk deploy --all` could deploy the runtime first.
 */
export function assertDeployedAfterTable(scope: IConstruct, tableName: string): void {
  if (Token.isUnresolved(tableName)) return;
  const stack = Stack.of(scope);
  const definitions = inSameStage(
    scope,
    (construct): construct is ConversationTable => construct instanceof ConversationTable && construct.tableName === tableName,
  );
  for (const table of definitions) {
    const tableStack = Stack.of(table);
    if (tableStack === stack || dependsOn(stack, tableStack)) continue;
    throw new MultiRegionAgentError(
      'MissingTableDependency',
      `table: '${tableName}' is defined in stack ${tableStack.stackName}, which stack ${stack.stackName} does not depend on, so \`cdk deploy --all\` may deploy this runtime before its table. ` +
        `Fix: ${stack.node.id}.addStackDependency(${tableStack.node.id}) (the stacks' construct ids), or pass the ConversationTable construct itself as table`,
      scope,
    );
  }
}

/**
 * A runtime that leaves API Gateway's account settings to another stack
 * (`manageApiGatewayAccount: false`) needs that stack deployed first: its
 * stage's access logging needs the account's logging role. When a stack of
 * the same app, account and region registers it (an `AWS::ApiGateway::Account`),
 * `stack` is made to depend on it; when that stack depends on `stack`
 * already, the order cannot be right and synthesis refuses. Without such a
 * stack, the registration belongs to someone else (a landing zone).
 */
export function orderAfterApiGatewayAccount(scope: IConstruct): void {
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) return;
  const registrations = inSameStage(scope, (construct): construct is apigateway.CfnAccount => construct instanceof apigateway.CfnAccount);
  for (const registration of registrations) {
    const owner = Stack.of(registration);
    if (owner === stack || owner.account !== stack.account || owner.region !== stack.region) continue;
    if (dependsOn(owner, stack)) {
      throw new MultiRegionAgentError(
        'ApiGatewayAccountOrder',
        `manageApiGatewayAccount: false leaves API Gateway's logging role of ${stack.account}/${stack.region} to stack ${owner.stackName}, which must be deployed first, but it depends on stack ${stack.stackName}. ` +
          `Fix: let this runtime register it (manageApiGatewayAccount: true) and the other one not, or remove ${owner.stackName}'s dependency on ${stack.stackName}`,
        scope,
      );
    }
    stack.addStackDependency(owner, "API Gateway's account-wide logging role is registered there");
  }
}
