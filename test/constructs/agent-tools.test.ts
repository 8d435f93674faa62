import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { z } from 'zod';
import { AgentCode, AgentTool, type AgentRuntime, type LambdaToolSpec, type LambdaToolOptions } from '../../lib';
import { ACCOUNT, agentApp, agentEntry, environmentOf, flatten, runtimeIn, testApp } from './fixtures';

const ORDER_SCHEMA = { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] };

function toolFunction(scope: Construct, id: string): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async (event) => event.input;'),
  });
}

function tool(fn: lambda.IFunction, options: Partial<LambdaToolOptions> = {}): AgentTool {
  return AgentTool.fromFunction(fn, { name: 'lookup_order', description: 'Looks an order up by its id', inputSchema: ORDER_SCHEMA, ...options });
}

/** The stack holding the runtime, with its tool functions beside it: the app's stack `Agent` (eu-west-1). */
function agentStack(app: App): Stack {
  return new Stack(app, 'Agent', { env: { account: ACCOUNT, region: 'eu-west-1' } });
}

const specsOf = (runtime: AgentRuntime): LambdaToolSpec[] => JSON.parse(fs.readFileSync(path.join(runtime.codeDirectory, 'lambda-tools.json'), 'utf8'));

/** Every statement of the stack's policies that names a Lambda action. */
function lambdaStatements(stack: Stack): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
    .filter((statement: { Action: string | string[] }) => [statement.Action].flat().some((action) => action.startsWith('lambda:')));
}

const logicalIdOf = (fn: lambda.Function) => Stack.of(fn).getLogicalId(fn.node.defaultChild as lambda.CfnFunction);

describe('AgentTool.fromFunction', () => {
  test("lists each Lambda tool in the code asset's lambda-tools.json: name, description, JSON Schema, timeout and whether it needs approval", () => {
    // GIVEN two tools, one with a JSON Schema and the default timeout, one with a zod schema and its own
    const app = testApp();
    const stack = agentStack(app);
    const lookup = tool(toolFunction(stack, 'Lookup'));
    const refund = AgentTool.fromFunction(toolFunction(stack, 'Refund'), {
      name: 'refund_order',
      description: 'Refunds an order',
      inputSchema: z.object({ orderId: z.string(), cents: z.number().int().positive() }),
      timeout: Duration.seconds(30),
      needsApproval: true,
    });

    // WHEN
    const runtime = runtimeIn(app, { tools: [lookup, refund] });

    // THEN
    expect(specsOf(runtime)).toEqual([
      { name: 'lookup_order', description: 'Looks an order up by its id', inputSchema: ORDER_SCHEMA, timeoutMs: 10_000 },
      {
        name: 'refund_order',
        description: 'Refunds an order',
        inputSchema: expect.objectContaining({
          type: 'object',
          properties: { orderId: { type: 'string' }, cents: expect.objectContaining({ type: 'integer' }) },
          required: ['orderId', 'cents'],
        }),
        timeoutMs: 30_000,
        needsApproval: true,
      },
    ]);
  });

  test("a tool without a timeout of its own gets the agent's toolTimeoutMs", () => {
    // GIVEN an agent whose code sets toolTimeoutMs: 4000
    const app = testApp();
    const fn = toolFunction(agentStack(app), 'Lookup');

    // WHEN
    const runtime = runtimeIn(app, { agent: AgentCode.fromEntry(agentEntry('tool-timeout.ts')), tools: [tool(fn)] });

    // THEN
    expect(specsOf(runtime)[0].timeoutMs).toBe(4000);
  });

  test("gives the runtime each tool's function ARN in AGENT_TOOL_FUNCTIONS, resolved by CloudFormation", () => {
    // GIVEN
    const app = testApp();
    const fn = toolFunction(agentStack(app), 'Lookup');

    // WHEN
    const runtime = runtimeIn(app, { tools: [tool(fn)] });

    // THEN the variable is JSON whose value is the function's ARN attribute
    const variable = environmentOf(runtime).AGENT_TOOL_FUNCTIONS as unknown as { 'Fn::Join': [string, unknown[]] };
    const [, parts] = variable['Fn::Join'];
    expect(parts).toEqual(['{"lookup_order":"', { 'Fn::GetAtt': [logicalIdOf(fn), 'Arn'] }, '"}']);
  });

  test("grants the runtime's role exactly lambda:InvokeFunction on exactly its tools' functions", () => {
    // GIVEN two tools of two functions, and a function that is not a tool
    const app = testApp();
    const stack = agentStack(app);
    const lookup = toolFunction(stack, 'Lookup');
    const refund = toolFunction(stack, 'Refund');
    toolFunction(stack, 'Unrelated');

    // WHEN
    runtimeIn(app, { tools: [tool(lookup), tool(refund, { name: 'refund_order' })] });

    // THEN one statement, one action, the two ARNs and nothing else
    const statements = lambdaStatements(stack);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
    expect(statements[0].Resource).toEqual([{ 'Fn::GetAtt': [logicalIdOf(lookup), 'Arn'] }, { 'Fn::GetAtt': [logicalIdOf(refund), 'Arn'] }]);
    expect(flatten(statements[0].Resource)).not.toContain('*');
  });

  test('a runtime without Lambda tools has no Lambda grant, no lambda-tools.json and no AGENT_TOOL_FUNCTIONS', () => {
    const runtime = runtimeIn(testApp());

    expect(lambdaStatements(Stack.of(runtime))).toEqual([]);
    expect(fs.readdirSync(runtime.codeDirectory)).not.toContain('lambda-tools.json');
    expect(environmentOf(runtime)).not.toHaveProperty('AGENT_TOOL_FUNCTIONS');
  });

  test('a function imported by ARN from another region of the jurisdiction is allowed, and granted by that ARN', () => {
    // GIVEN
    const app = testApp();
    const arn = `arn:aws:lambda:eu-central-1:${ACCOUNT}:function:order-lookup`;
    const imported = lambda.Function.fromFunctionArn(agentStack(app), 'Imported', arn);

    // WHEN
    const runtime = runtimeIn(app, { tools: [tool(imported)] });

    // THEN
    expect(lambdaStatements(Stack.of(runtime))[0].Resource).toBe(arn);
  });

  test.each([
    [
      'a function in a stack of a region outside the jurisdiction, naming the tool, its region and the jurisdiction',
      (app: App) => toolFunction(new Stack(app, 'Us', { env: { account: ACCOUNT, region: 'us-east-1' } }), 'Lookup'),
      'ToolOutsideJurisdiction',
      /Agent\/Runtime\/Function: tools: tool 'lookup_order' runs in us-east-1, outside jurisdiction 'eu' \(eu-west-1, eu-central-1\); tool inputs carry the conversation's data/,
    ],
    [
      'a function imported by an ARN of a region outside the jurisdiction',
      (app: App) => lambda.Function.fromFunctionArn(agentStack(app), 'Imported', `arn:aws:lambda:us-west-2:${ACCOUNT}:function:order-lookup`),
      'ToolOutsideJurisdiction',
      /tool 'lookup_order' runs in us-west-2, outside jurisdiction 'eu'/,
    ],
    [
      'a function of an environment-agnostic stack, saying how to fix it',
      (app: App) => toolFunction(new Stack(app, 'Anywhere'), 'Lookup'),
      'ToolRegionUnknown',
      /tools: the region of tool 'lookup_order' \(Anywhere\/Lookup\) is not known at synthesis.*explicit env.region, or import it by a literal ARN/,
    ],
    [
      'a function imported by an ARN that is a reference',
      (app: App) => {
        const stack = agentStack(app);
        return lambda.Function.fromFunctionArn(stack, 'Imported', new CfnParameter(stack, 'ToolArn').valueAsString);
      },
      'ToolRegionUnknown',
      /the region of tool 'lookup_order' \(Agent\/Imported\) is not known at synthesis/,
    ],
  ])('throws for %s', (_case, makeFunction, code, message) => {
    const build = () => {
      const app = testApp();
      runtimeIn(app, { tools: [tool(makeFunction(app))] });
    };

    expect(build).toThrow(message);
    expect(build).toThrow(expect.objectContaining({ code }));
  });

  test('throws if two Lambda tools have one name, naming it', () => {
    const app = testApp();
    const stack = agentStack(app);

    expect(() => runtimeIn(app, { tools: [tool(toolFunction(stack, 'One')), tool(toolFunction(stack, 'Two'))] })).toThrow(
      /Agent\/Runtime\/Function: tools: two Lambda tools are named 'lookup_order'/,
    );
  });

  test("throws if a Lambda tool has the name of a tool of the agent's code, naming it", () => {
    // GIVEN an agent whose code has a tool opening_hours
    const app = testApp();
    const fn = toolFunction(agentStack(app), 'Hours');

    // WHEN / THEN
    expect(() => runtimeIn(app, { agent: AgentCode.fromEntry(agentEntry('support/agent.ts')), tools: [tool(fn, { name: 'opening_hours' })] })).toThrow(
      /tools: 'opening_hours' names both a tool of the agent's code and a Lambda tool \(Agent\/Hours\); rename one/,
    );
  });

  test("throws if the tools' ARNs would not fit Lambda's 4 KB of environment", () => {
    const app = testApp();
    const fn = toolFunction(agentStack(app), 'Lookup');
    const tools = Array.from({ length: 30 }, (_, index) => tool(fn, { name: `tool_${index}` }));

    expect(() => runtimeIn(app, { tools })).toThrow(/the runtime configuration and tool ARNs take \d+ bytes of Lambda's 4 KB environment/);
  });

  test.each([
    ['a name Bedrock refuses', { name: 'look up' }, 'InvalidToolName', /AgentTool.fromFunction: tool 'look up': Bedrock accepts tool names of 1-64 characters/],
    ['an empty description', { description: ' ' }, 'InvalidToolDescription', /tool 'lookup_order': description is empty/],
    [
      'a JSON Schema that is not of an object',
      { inputSchema: { type: 'string' } },
      'InvalidToolSchema',
      /tool 'lookup_order': inputSchema: the input schema must describe an object \(type: "object"\), got type: "string"/,
    ],
    [
      'a zod schema that is not of an object',
      { inputSchema: z.array(z.string()) },
      'InvalidToolSchema',
      /tool 'lookup_order': inputSchema: .* got type: "array"/,
    ],
    ['a timeout beyond 15 minutes', { timeout: Duration.minutes(16) }, 'InvalidToolTimeout', /tool 'lookup_order': timeout must be from 1 ms to 15 minutes/],
    [
      'a needsApproval that is not a boolean',
      { needsApproval: 'yes' as unknown as boolean },
      'InvalidToolApproval',
      /tool 'lookup_order': needsApproval must be true or false/,
    ],
  ])('throws for %s, naming the tool', (_case, options, code, message) => {
    const fn = lambda.Function.fromFunctionArn(agentStack(testApp()), 'Imported', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:order-lookup`);

    expect(() => tool(fn, options)).toThrow(message);
    expect(() => tool(fn, options)).toThrow(expect.objectContaining({ code }));
  });
});

describe('MultiRegionAgent with an agent and tools', () => {
  test("calls the tools factory once per region, in the region's stack, and each runtime may invoke only its own region's function", () => {
    // GIVEN
    const calls: string[] = [];
    const functions: Record<string, lambda.Function> = {};

    // WHEN
    const { agent } = agentApp({
      agent: AgentCode.fromEntry(agentEntry('support/agent.ts')),
      tools: (scope, region, jurisdiction) => {
        calls.push(`${scope.node.path} ${region} ${jurisdiction.name}`);
        functions[region] = toolFunction(scope, 'LookupOrder');
        return [tool(functions[region])];
      },
    });

    // THEN
    expect(calls).toEqual([
      'agent-us-east-1/Tools us-east-1 us',
      'agent-us-west-2/Tools us-west-2 us',
      'agent-eu-west-1/Tools eu-west-1 eu',
      'agent-eu-central-1/Tools eu-central-1 eu',
    ]);
    for (const runtime of agent.runtimes) {
      const stack = agent.regionStacks[runtime.region];
      expect(Stack.of(functions[runtime.region])).toBe(stack);
      expect(lambdaStatements(stack).map((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [logicalIdOf(functions[runtime.region]), 'Arn'] }]);
      expect(runtime.agentManifest?.tools.map((codeTool) => codeTool.name)).toEqual(['opening_hours']);
      expect(specsOf(runtime).map((spec) => spec.name)).toEqual(['lookup_order']);
    }
  });

  test("throws if the factory gives a region a tool function outside the region's jurisdiction", () => {
    const build = () =>
      agentApp({
        tools: (scope) => [tool(lambda.Function.fromFunctionArn(scope, 'Lookup', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:order-lookup`))],
      });

    expect(build).toThrow(/agent-eu-west-1\/Runtime\/Function: tools: tool 'lookup_order' runs in us-east-1, outside jurisdiction 'eu'/);
  });
});

describe('timeouts that the function cannot keep', () => {
  test.each([
    [
      'a Lambda tool whose timeout outlives the function',
      (app: App) => ({ tools: [tool(toolFunction(agentStack(app), 'Lookup'), { timeout: Duration.minutes(10) })] }),
      'ToolTimeoutBeyondTimeout',
      /tool 'lookup_order' has a timeout of 600000 ms, longer than the timeout \(120000 ms, the function's and the streaming integration's\) less deadlines.reserveMs \(3000 ms\) allows 117000 ms/,
    ],
    [
      "a tool given the agent's toolTimeoutMs, in a function that stops sooner",
      (app: App) => ({
        agent: AgentCode.fromEntry(agentEntry('tool-timeout.ts')),
        tools: [tool(toolFunction(agentStack(app), 'Lookup'))],
        timeout: Duration.seconds(4),
        settings: { deadlines: { totalBudgetMs: 2000, reserveMs: 500, stateTimeoutMs: 500 } },
      }),
      'ToolTimeoutBeyondTimeout',
      /tool 'lookup_order' has a timeout of 4000 ms, longer than the timeout \(4000 ms, .*\) less deadlines.reserveMs \(500 ms\) allows 3500 ms/,
    ],
    [
      "a loop budget beyond the function's timeout",
      (_app: App) => ({ settings: { deadlines: { totalBudgetMs: 300_000 } } }),
      'BudgetBeyondTimeout',
      /settings.deadlines.totalBudgetMs \(300000 ms\) is longer than the timeout \(120000 ms, the function's and the streaming integration's\) less deadlines.reserveMs \(3000 ms\) allows 117000 ms/,
    ],
  ])('throws for %s, naming both values', (_case, props, code, message) => {
    const app = testApp();
    expect(() => runtimeIn(app, props(app))).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  test('a budget and tools that fit the timeout synthesize', () => {
    const app = testApp();
    const lookup = tool(toolFunction(agentStack(app), 'Lookup'), { timeout: Duration.seconds(100) });
    const runtime = runtimeIn(app, { tools: [lookup], timeout: Duration.minutes(2), settings: { deadlines: { totalBudgetMs: 117_000 } } });
    expect(specsOf(runtime)).toEqual([expect.objectContaining({ name: 'lookup_order', timeoutMs: 100_000 })]);
  });
});
