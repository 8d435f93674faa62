/**
 * The example's tools that are Lambda functions, made once per region by
 * MultiRegionAgent's `tools` factory: each region deploys its own
 * lookup_order function, so a conversation's tool inputs stay in its
 * jurisdiction.
 */
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AgentTool, type AgentToolsContext, type Jurisdiction } from 'cdk-multi-region-agent';

/** The lookup_order tool: its name and the module of its handler (export `handler`), also for the local playground. */
export const LOOKUP_ORDER = { name: 'lookup_order', handlerModule: path.join(__dirname, 'order-lookup.ts') } as const;

/** This repository, whose lock file pins what the handler is bundled with. */
const PROJECT_ROOT = path.join(__dirname, '..', '..');

export function supportTools(scope: Construct, region: string, _jurisdiction: Jurisdiction, context: AgentToolsContext): AgentTool[] {
  // Kept and encrypted like the region's own log groups (a year, the region's KMS key).
  const logGroup = new logs.LogGroup(scope, 'LookupOrderLogs', { retention: context.logRetention, encryptionKey: context.logEncryptionKey });
  // Least privilege: the function only writes its own logs (no managed basic-execution policy for every log group).
  const role = new iam.Role(scope, 'LookupOrderRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Support agent tool ${LOOKUP_ORDER.name} (${region})`,
    inlinePolicies: {
      Logs: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
      }),
    },
  });
  const lookupOrder = new nodejs.NodejsFunction(scope, 'LookupOrder', {
    entry: LOOKUP_ORDER.handlerModule,
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(10),
    role,
    logGroup,
    description: `Support agent tool ${LOOKUP_ORDER.name} (${region})`,
    bundling: { format: nodejs.OutputFormat.ESM, target: 'node22', minify: true, sourceMap: false },
  });
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
  ];
}
