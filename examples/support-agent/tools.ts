/**
 * The example's tools that are Lambda functions, made once per region by
 * MultiRegionAgent's `tools` factory: each region deploys its own
 * lookup_order function and its own delivery MCP server (a function behind
 * a function URL with IAM auth, which the runtime signs for with SigV4), so
 * a conversation's tool inputs stay in its jurisdiction.
 */
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AgentTool, McpAuth, type AgentToolSource, type AgentToolsContext, type Jurisdiction } from 'cdk-multi-region-agent';
import { DELIVERY_MCP } from './delivery-mcp';

/** The lookup_order tool: its name and the module of its handler (export `handler`), also for the local playground. */
export const LOOKUP_ORDER = { name: 'lookup_order', handlerModule: path.join(__dirname, 'order-lookup.ts') } as const;

/** The delivery MCP server: its name and the module of its function URL's handler (export `handler`). */
export const DELIVERY_SERVER = { name: DELIVERY_MCP.name, handlerModule: path.join(__dirname, 'delivery-mcp.ts') } as const;

/** This repository, whose lock file pins what the handler is bundled with. */
const PROJECT_ROOT = path.join(__dirname, '..', '..');

export function supportTools(scope: Construct, region: string, _jurisdiction: Jurisdiction, context: AgentToolsContext): AgentToolSource[] {
  const lookupOrder = toolFunction(scope, 'LookupOrder', LOOKUP_ORDER.handlerModule, `Support agent tool ${LOOKUP_ORDER.name} (${region})`, context);
  const delivery = toolFunction(scope, 'DeliveryMcp', DELIVERY_SERVER.handlerModule, `Support agent MCP server ${DELIVERY_SERVER.name} (${region})`, context);
  // IAM auth: only principals allowed lambda:InvokeFunctionUrl on it (the runtime's role, exactly) may call it.
  const deliveryUrl = delivery.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
  return [
    AgentTool.fromFunction(lookupOrder, {
      name: LOOKUP_ORDER.name,
      description:
        'Looks an order up by its id (NW- and five digits): its status, dates, items with their categories, the delivery city and the last four digits of the card. Returns found: false for an unknown id.',
      inputSchema: {
        type: 'object',
        properties: { orderId: { type: 'string', pattern: '^NW-\\d{5}$', description: 'The order id, e.g. NW-10042' } },
        required: ['orderId'],
        additionalProperties: false,
      },
      timeout: Duration.seconds(5),
    }),
    // In the region's own stack, so the server processes tool inputs in the region (its residency is the function's region).
    AgentTool.fromMcpServer({
      url: deliveryUrl.url,
      name: DELIVERY_SERVER.name,
      auth: McpAuth.sigv4({ function: delivery }),
      // Changing a delivery waits for the customer's approval; reading the slots does not.
      needsApproval: [DELIVERY_MCP.tools.change],
      timeout: Duration.seconds(5),
    }),
  ];
}

/** A small ARM function of this repository, bundled with its lock file, that only writes its own logs. */
function toolFunction(scope: Construct, id: string, entry: string, description: string, context: AgentToolsContext): nodejs.NodejsFunction {
  // Kept and encrypted like the region's own log groups (a year, the region's KMS key).
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: context.logRetention, encryptionKey: context.logEncryptionKey });
  // Least privilege: the function only writes its own logs (no managed basic-execution policy for every log group).
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description,
    inlinePolicies: {
      Logs: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
      }),
    },
  });
  return new nodejs.NodejsFunction(scope, id, {
    entry,
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(10),
    role,
    logGroup,
    description,
    bundling: { format: nodejs.OutputFormat.ESM, target: 'node22', minify: true, sourceMap: false },
  });
}
