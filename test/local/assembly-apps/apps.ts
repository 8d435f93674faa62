/**
 * Small apps of a stranger, synthesized in process into a temporary cloud
 * assembly for the local deployment's tests: nothing of them reaches the
 * reader but the assembly's files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import {
  AgentCode,
  AgentInstructions,
  AgentRuntime,
  AgentTool,
  BedrockModel,
  ConversationTable,
  Jurisdiction,
  ModelChain,
  MultiRegionAgent,
} from '../../../lib';

const ACCOUNT = '210987654321';
const REPO = path.join(__dirname, '..', '..', '..');
const chain = () => ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5, BedrockModel.AMAZON_NOVA_PRO);

/** Synthesizes the app into a new temporary directory; `remove` deletes it. */
export function synthesized(build: (app: App) => void, context: Record<string, unknown> = {}): { directory: string; remove: () => void } {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'local-assembly-'));
  const app = new App({ outdir: directory, context });
  build(app);
  app.synth();
  return { directory, remove: () => fs.rmSync(directory, { recursive: true, force: true }) };
}

/**
 * Composed by hand, no MultiRegionAgent: the table in one stack, the
 * runtime in another, its tools a NodejsFunction bundled at synthesis (ESM)
 * beside it and a CommonJS asset function in a third stack (exported and
 * imported across stacks).
 */
export function handComposedApp(app: App, options: { brokenTool?: boolean } = {}): void {
  const jurisdiction = Jurisdiction.custom({ name: 'ca', regions: ['ca-central-1'], geography: 'ca' });
  const env = { account: ACCOUNT, region: 'ca-central-1' };
  const tables = new Stack(app, 'Tables', { env });
  const table = new ConversationTable(tables, 'Conversations', { jurisdiction, tableName: 'shop-conversations-ca' });
  const tools = new Stack(app, 'Tools', { env });
  const greet = new lambda.Function(tools, 'Greet', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: options.brokenTool ? 'index.handler' : 'index.greet',
    code: lambda.Code.fromAsset(path.join(__dirname, options.brokenTool ? 'tool-broken' : 'tool-cjs')),
    environment: { GREETING: 'Bonjour' },
  });
  const runtimeStack = new Stack(app, 'Agent', { env });
  const orderStatus = new nodejs.NodejsFunction(runtimeStack, 'OrderStatus', {
    entry: path.join(__dirname, 'order-status.ts'),
    projectRoot: REPO,
    depsLockFilePath: path.join(REPO, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    timeout: Duration.seconds(7),
    environment: { ORDERS_TABLE: table.tableName },
    bundling: { format: nodejs.OutputFormat.ESM, target: 'node22' },
  });
  const schema = (property: string) => ({ type: 'object', properties: { [property]: { type: 'string' } }, required: [property] });
  new AgentRuntime(runtimeStack, 'Shop', {
    jurisdiction,
    chain: ModelChain.of(BedrockModel.AMAZON_NOVA_PRO),
    table,
    instructions: AgentInstructions.fromText('You answer questions about orders of the shop, in French or English.'),
    tools: [
      AgentTool.fromFunction(orderStatus, { name: 'order_status', description: 'The status of an order', inputSchema: schema('orderId') }),
      AgentTool.fromFunction(greet, { name: 'greet', description: 'Greets a customer by name', inputSchema: schema('name') }),
    ],
    probes: false,
  });
}

/** MultiRegionAgent over three jurisdictions, with the repository's test agent. */
export function threeJurisdictionApp(app: App): void {
  new MultiRegionAgent(app, 'tri', {
    account: ACCOUNT,
    hostedZone: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.org' },
    recordName: 'help.example.org',
    jurisdictions: [
      Jurisdiction.us(['us-east-1'], { geolocations: [route53.GeoLocation.continent(route53.Continent.NORTH_AMERICA)] }),
      Jurisdiction.eu(['eu-west-1', 'eu-central-1'], { geolocations: [route53.GeoLocation.continent(route53.Continent.EUROPE)] }),
      Jurisdiction.apac(['ap-northeast-1']),
    ],
    chain: chain(),
    agent: AgentCode.fromEntry(path.join(REPO, 'test', 'constructs', 'agents', 'support', 'agent.ts')),
  });
}

/** An app with a table and no agent runtime. */
export function tableOnlyApp(app: App): void {
  const stack = new Stack(app, 'JustATable', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  new ConversationTable(stack, 'Conversations', { jurisdiction: Jurisdiction.eu(['eu-west-1']) });
}
