/**
 * MCP servers as tools, at synthesis: what the code asset tells the
 * runtime, exactly the grants each authentication needs, the residency
 * refusals, the name clashes synthesis can see, and the residency report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AgentCode, AgentTool, Jurisdiction, McpAuth, MultiRegionAgentError, type AgentRuntime } from '../../lib';
import type { McpServerSpec } from '../../lambda/agent/agent/asset-layout';
import { ACCOUNT, agentApp, agentEntry, environmentOf, runtimeIn, testApp } from './fixtures';

const GATEWAY_ARN = 'arn:aws:bedrock-agentcore:eu-west-1:123456789012:gateway/orders-gw-abc123';

function agentStack(app: App): Stack {
  return (app.node.tryFindChild('Agent') as Stack | undefined) ?? new Stack(app, 'Agent', { env: { account: ACCOUNT, region: 'eu-west-1' } });
}

const mcpSpecsOf = (runtime: AgentRuntime): McpServerSpec[] => JSON.parse(fs.readFileSync(path.join(runtime.codeDirectory, 'mcp-servers.json'), 'utf8'));

/** The statements of the runtime role's policies that are not the ones every runtime has. */
function statementsWith(stack: Stack, prefix: string): Array<Record<string, unknown>> {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>)
    .filter((statement) => [statement.Action].flat().some((action) => String(action).startsWith(prefix)));
}

function synthError(run: () => unknown): MultiRegionAgentError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MultiRegionAgentError);
    return error as MultiRegionAgentError;
  }
  throw new Error('expected synthesis to fail');
}

describe('AgentTool.fromMcpServer', () => {
  test("lists the server in the code asset's mcp-servers.json: url, where it processes, filters, prefix, timeout, approvals", () => {
    const app = testApp();
    const server = AgentTool.fromMcpServer({
      url: 'https://mcp.orders.example.com/mcp',
      region: 'eu-west-1',
      include: ['get_order', 'refund_order'],
      exclude: ['delete_everything'],
      prefix: 'orders_',
      timeout: Duration.seconds(20),
      needsApproval: ['refund_order'],
    });

    const runtime = runtimeIn(app, { tools: [server] });

    expect(mcpSpecsOf(runtime)).toEqual([
      {
        name: 'mcp.orders.example.com/mcp',
        url: 'https://mcp.orders.example.com/mcp',
        region: 'eu-west-1',
        include: ['get_order', 'refund_order'],
        exclude: ['delete_everything'],
        prefix: 'orders_',
        timeoutMs: 20_000,
        needsApproval: ['refund_order'],
      },
    ]);
    expect(runtime.mcpServers).toEqual([server]);
  });

  test('bearer: the role may read exactly that secret, and decrypt it through Secrets Manager when its key is customer-managed', () => {
    const app = testApp();
    const stack = agentStack(app);
    const key = new kms.Key(stack, 'TokenKey');
    const secret = new secretsmanager.Secret(stack, 'OrdersToken', { encryptionKey: key });
    const runtime = runtimeIn(app, {
      tools: [AgentTool.fromMcpServer({ url: 'https://mcp.example.com/mcp', region: 'eu-west-1', auth: McpAuth.bearer(secret) })],
    });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'McpServer1Token',
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Resource: { Ref: stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret) },
          },
          {
            Sid: 'McpServer1TokenKey',
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
          },
        ]),
      },
      Roles: [{ Ref: stack.getLogicalId(runtime.function.role!.node.defaultChild as never) }],
    });
    expect(mcpSpecsOf(runtime)[0].auth).toEqual({ kind: 'bearer', secretArn: expect.any(String) });
    // Nothing else of Secrets Manager: no provider in the chain, one secret
    expect(statementsWith(stack, 'secretsmanager:')).toHaveLength(1);
  });

  test('bearer: a secret imported by name is granted with its six-character suffix, and nothing is decrypted', () => {
    const app = testApp();
    const stack = agentStack(app);
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'mcp/orders-token');
    runtimeIn(app, { tools: [AgentTool.fromMcpServer({ url: 'https://mcp.example.com/mcp', region: 'eu-west-1', auth: McpAuth.bearer(secret) })] });

    const [statement] = statementsWith(stack, 'secretsmanager:');
    expect(JSON.stringify(statement.Resource)).toContain(':secret:mcp/orders-token-??????');
    expect(statementsWith(stack, 'kms:')).toHaveLength(0);
  });

  test('SigV4 to a Lambda function URL: exactly lambda:InvokeFunctionUrl on that function, signed for lambda in its region; its URL comes from the environment', () => {
    const app = testApp();
    const stack = agentStack(app);
    const fn = new lambda.Function(stack, 'OrdersMcp', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    const runtime = runtimeIn(app, { tools: [AgentTool.fromMcpServer({ url: url.url, name: 'orders', auth: McpAuth.sigv4({ function: fn }) })] });

    expect(statementsWith(stack, 'lambda:')).toEqual([
      {
        Sid: 'McpServer1Invoke',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction), 'Arn'] },
      },
    ]);
    expect(mcpSpecsOf(runtime)).toEqual([
      { name: 'orders', url: '', region: 'eu-west-1', auth: { kind: 'sigv4', service: 'lambda', region: 'eu-west-1' }, timeoutMs: 10_000 },
    ]);
    expect(JSON.stringify(environmentOf(runtime).AGENT_MCP_URLS)).toContain('FunctionUrl');
  });

  test('SigV4 to an AgentCore Gateway: exactly bedrock-agentcore:InvokeGateway on that gateway', () => {
    const app = testApp();
    const stack = agentStack(app);
    const runtime = runtimeIn(app, {
      tools: [
        AgentTool.fromMcpServer({
          url: 'https://orders-gw-abc123.gateway.bedrock-agentcore.eu-west-1.amazonaws.com/mcp',
          auth: McpAuth.sigv4({ gatewayArn: GATEWAY_ARN }),
        }),
      ],
    });

    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Sid: 'McpServer1Invoke', Effect: 'Allow', Action: 'bedrock-agentcore:InvokeGateway', Resource: GATEWAY_ARN }]),
      },
    });
    expect(statementsWith(stack, 'bedrock-agentcore:')).toHaveLength(1);
    expect(mcpSpecsOf(runtime)[0]).toMatchObject({ region: 'eu-west-1', auth: { kind: 'sigv4', service: 'bedrock-agentcore', region: 'eu-west-1' } });
  });
});

describe('bad MCP servers fail synthesis, naming the prop', () => {
  test.each([
    ['http://mcp.example.com/mcp', /url must be https/],
    ['ftp://mcp.example.com', /url must be https/],
    ['not a url', /url is not a URL/],
  ])('url %s', (url, message) => {
    const error = synthError(() => AgentTool.fromMcpServer({ url, region: 'eu-west-1' }));
    expect(error.code).toBe('InvalidMcpUrl');
    expect(error.message).toMatch(message);
  });

  test('plain http to this machine is allowed, for local emulators', () => {
    expect(AgentTool.fromMcpServer({ url: 'http://127.0.0.1:8123/mcp', region: 'eu-west-1' }).name).toBe('127.0.0.1:8123/mcp');
    expect(AgentTool.fromMcpServer({ url: 'http://localhost:9000/', region: 'eu-west-1' }).name).toBe('localhost:9000');
  });

  test('a server that does not say where it processes', () => {
    expect(synthError(() => AgentTool.fromMcpServer({ url: 'https://mcp.example.com' })).message).toMatch(/region or residency/);
  });

  test("a server outside a restricted jurisdiction's regions is refused, naming the server and the regions", () => {
    const app = testApp();
    const error = synthError(() => runtimeIn(app, { tools: [AgentTool.fromMcpServer({ url: 'https://mcp.example.com/mcp', region: 'us-east-1' })] }));
    expect(error.code).toBe('McpServerOutsideJurisdiction');
    expect(error.message).toContain("MCP server 'mcp.example.com/mcp' processes in us-east-1, outside restricted jurisdiction 'eu' (eu-west-1, eu-central-1)");
  });

  test("a server declaring a geography other than the jurisdiction's is refused; one in it is allowed", () => {
    const error = synthError(() => runtimeIn(testApp(), { tools: [AgentTool.fromMcpServer({ url: 'https://mcp.example.com', residency: 'global' })] }));
    expect(error.message).toContain('anywhere in the world');
    expect(runtimeIn(testApp(), { tools: [AgentTool.fromMcpServer({ url: 'https://mcp.example.com', residency: 'eu' })] }).mcpServers).toHaveLength(1);
  });

  test('a SigV4 server whose resource is in another jurisdiction is refused', () => {
    const error = synthError(() =>
      runtimeIn(testApp(), {
        tools: [
          AgentTool.fromMcpServer({
            url: 'https://gw.example.com/mcp',
            auth: McpAuth.sigv4({ gatewayArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/x' }),
          }),
        ],
      }),
    );
    expect(error.message).toContain('processes in us-east-1');
  });

  test('an unrestricted jurisdiction takes a server anywhere', () => {
    const jurisdiction = Jurisdiction.custom({ name: 'world', geography: 'global', regions: ['eu-west-1'], restricted: false });
    expect(
      runtimeIn(testApp(), { jurisdiction, tools: [AgentTool.fromMcpServer({ url: 'https://mcp.example.com', region: 'us-east-1' })] }).mcpServers,
    ).toHaveLength(1);
  });

  test("a tool of the include list that clashes with a tool of the agent's code is refused, naming both", () => {
    const error = synthError(() =>
      runtimeIn(testApp(), {
        agent: AgentCode.fromEntry(agentEntry('order-tools.ts')),
        tools: [AgentTool.fromMcpServer({ url: 'https://mcp.example.com/mcp', region: 'eu-west-1', include: ['get_order'] })],
      }),
    );
    expect(error.code).toBe('DuplicateToolName');
    expect(error.message).toContain("'get_order' names both a tool of the agent's code and a tool of MCP server 'mcp.example.com/mcp'");
  });

  test('two servers whose include lists share a name, or with one prefix and no include list, are refused, naming both', () => {
    const shared = synthError(() =>
      runtimeIn(testApp(), {
        tools: [
          AgentTool.fromMcpServer({ url: 'https://a.example.com', region: 'eu-west-1', include: ['search'] }),
          AgentTool.fromMcpServer({ url: 'https://b.example.com', region: 'eu-west-1', include: ['search'] }),
        ],
      }),
    );
    expect(shared.message).toContain("'search' names both a tool of MCP server 'a.example.com' and a tool of MCP server 'b.example.com'");
    const unlisted = synthError(() =>
      runtimeIn(testApp(), {
        tools: [
          AgentTool.fromMcpServer({ url: 'https://a.example.com', region: 'eu-west-1' }),
          AgentTool.fromMcpServer({ url: 'https://b.example.com', region: 'eu-west-1' }),
        ],
      }),
    );
    expect(unlisted.message).toContain("MCP servers 'a.example.com' and 'b.example.com' have the same prefix");
    // With prefixes, the same two servers are fine
    const runtime = runtimeIn(testApp(), {
      tools: [
        AgentTool.fromMcpServer({ url: 'https://a.example.com', region: 'eu-west-1', prefix: 'a_' }),
        AgentTool.fromMcpServer({ url: 'https://b.example.com', region: 'eu-west-1', prefix: 'b_' }),
      ],
    });
    expect(runtime.mcpServers).toHaveLength(2);
  });

  test('a timeout beyond 15 minutes, a prefix Bedrock would refuse, and SigV4 without a resource', () => {
    expect(synthError(() => AgentTool.fromMcpServer({ url: 'https://a.example.com', region: 'eu-west-1', timeout: Duration.minutes(16) })).code).toBe(
      'InvalidToolTimeout',
    );
    expect(synthError(() => AgentTool.fromMcpServer({ url: 'https://a.example.com', region: 'eu-west-1', prefix: 'a.' })).code).toBe('InvalidMcpPrefix');
    expect(synthError(() => McpAuth.sigv4({})).code).toBe('InvalidMcpAuth');
  });
});

test("the residency report lists each region's MCP servers, where they process, and counts their regions as processing regions", () => {
  const { agent } = agentApp({
    tools: (_scope, _region, jurisdiction) =>
      jurisdiction.name === 'eu' ? [AgentTool.fromMcpServer({ url: 'https://mcp.orders.example.com/mcp', region: 'eu-west-1', prefix: 'orders_' })] : [],
  });

  const eu = agent.residencyReport().jurisdictions.find((part) => part.name === 'eu')!;

  expect(eu.processing.mcpServers).toEqual([
    { name: 'mcp.orders.example.com/mcp', url: 'https://mcp.orders.example.com/mcp', region: 'eu-west-1', calledFrom: 'eu-west-1' },
    { name: 'mcp.orders.example.com/mcp', url: 'https://mcp.orders.example.com/mcp', region: 'eu-west-1', calledFrom: 'eu-central-1' },
  ]);
  expect(eu.processing.regions).toContain('eu-west-1');
  expect(agent.residencyReport().jurisdictions.find((part) => part.name === 'us')!.processing.mcpServers).toEqual([]);
});
