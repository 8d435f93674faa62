import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AgentRuntime, ConversationTable, Jurisdiction, type AgentRuntimeProps } from '../../lib';
import { ACCOUNT, chain, testApp } from './fixtures';

const EU = () => Jurisdiction.eu(['eu-west-1', 'eu-central-1']);

/** A runtime in eu-west-1 with its table in the same stack. */
function runtimeIn(app: App, props: Partial<AgentRuntimeProps> = {}, id = 'Runtime'): AgentRuntime {
  const stack = (app.node.tryFindChild('Agent') as Stack | undefined) ?? new Stack(app, 'Agent', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const jurisdiction = props.jurisdiction ?? EU();
  const table = (stack.node.tryFindChild('Conversations') as ConversationTable | undefined) ?? new ConversationTable(stack, 'Conversations', { jurisdiction });
  return new AgentRuntime(stack, id, { jurisdiction, chain: chain(), table, ...props });
}

describe('the code asset', () => {
  test("is a directory holding the runtime's handler, index.mjs, as the function's code (handler index.handler)", () => {
    // GIVEN / WHEN a stack that is bundled
    const runtime = runtimeIn(new App());

    // THEN
    const handler = fs.readFileSync(path.join(runtime.codeDirectory, 'index.mjs'), 'utf8');
    expect(handler).toMatch(/^import \{ createRequire \} from 'module'; const require = createRequire\(import\.meta\.url\);/);
    expect(handler).toMatch(/export\s*\{[^}]*handler/);
    Template.fromStack(Stack.of(runtime)).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs24.x' });
  });

  test('is left without the handler in a stack whose bundling is skipped, which is not deployed', () => {
    // GIVEN / WHEN
    const runtime = runtimeIn(testApp());

    // THEN
    expect(fs.readdirSync(runtime.codeDirectory)).toEqual([]);
  });
});
