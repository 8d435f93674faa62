/**
 * What each model is sent: the Converse request for one target (what its
 * family can read), and the history built from stored exchanges.
 */
import { converseRequest } from '../../lambda/agent/converse';
import type { ChatMessage, ModelRequest } from '../../lambda/agent/chain/types';
import type { ChainTarget } from '../../lambda/agent/config';
import { historyOf, INTERRUPTED_NOTE_WITHOUT_TOOLS } from '../../lambda/agent/message/history';
import type { StoredTurn } from '../../lambda/agent/store/conversation-store';

const claude: ChainTarget = { modelId: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'eu-west-1', tier: 'primary', promptCaching: true };
const nova: ChainTarget = { modelId: 'eu.amazon.nova-pro-v1:0', region: 'eu-west-1', tier: 'model-fallback', promptCaching: true };
const llama: ChainTarget = { modelId: 'meta.llama3-70b-instruct-v1:0', region: 'eu-west-1', tier: 'model-fallback' };

const withReasoning: ChatMessage[] = [
  { role: 'user', content: [{ type: 'text', text: 'where is A-1?' }] },
  {
    role: 'assistant',
    content: [
      { type: 'reasoning', family: 'anthropic', text: 'I should look it up.', signature: 'sig-1' },
      { type: 'toolUse', toolUseId: 't1', name: 'lookup_order', input: { orderId: 'A-1' } },
    ],
  },
  { role: 'user', content: [{ type: 'toolResult', toolUseId: 't1', status: 'success', content: [{ json: { status: 'shipped' } }] }] },
];
const request = (overrides: Partial<ModelRequest> = {}): ModelRequest => ({
  messages: withReasoning,
  system: 'You are a support agent.',
  tools: [{ name: 'lookup_order', description: 'Look an order up', inputSchema: { type: 'object' } }],
  maxTokens: 1000,
  temperature: 0.2,
  ...overrides,
});

describe('the Converse request of one target', () => {
  test('the model family that wrote reasoning gets it back; another family never sees it', () => {
    const toClaude = converseRequest(claude, request());
    const toNova = converseRequest(nova, request());

    expect(toClaude.messages?.[1].content?.[0]).toEqual({ reasoningContent: { reasoningText: { text: 'I should look it up.', signature: 'sig-1' } } });
    expect(toNova.messages?.[1].content).toEqual([{ toolUse: { toolUseId: 't1', name: 'lookup_order', input: { orderId: 'A-1' } } }]);
    expect(JSON.stringify(toNova)).not.toContain('reasoning');
  });

  test('a cache point follows the instructions for models that read them, and only for those', () => {
    expect(converseRequest(claude, request()).system).toEqual([{ text: 'You are a support agent.' }, { cachePoint: { type: 'default' } }]);
    expect(converseRequest(llama, request()).system).toEqual([{ text: 'You are a support agent.' }]);
  });

  test('tools become the toolConfig; results and uses keep their ids', () => {
    const sent = converseRequest(claude, request());

    expect(sent.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'lookup_order', description: 'Look an order up', inputSchema: { json: { type: 'object' } } } }],
    });
    expect(sent.messages?.[2].content).toEqual([{ toolResult: { toolUseId: 't1', status: 'success', content: [{ json: { status: 'shipped' } }] } }]);
  });

  test('a step answering tools that another model asked for runs without thinking: Claude wants its own reasoning first', () => {
    // GIVEN step 2 was served by Nova (no reasoning), and step 3 goes back to Claude
    const afterNova: ChatMessage[] = [
      withReasoning[0],
      { role: 'assistant', content: [{ type: 'toolUse', toolUseId: 't1', name: 'lookup_order', input: { orderId: 'A-1' } }] },
      withReasoning[2],
    ];

    const toClaude = converseRequest(claude, request({ messages: afterNova, reasoning: { budgetTokens: 2048 } }));
    const stillClaudes = converseRequest(claude, request({ reasoning: { budgetTokens: 2048 } }));

    expect(toClaude.additionalModelRequestFields).toBeUndefined();
    expect(stillClaudes.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
  });

  test('extended thinking is asked of Anthropic models only, with its budget on top of maxTokens and no temperature', () => {
    const toClaude = converseRequest(claude, request({ reasoning: { budgetTokens: 2048 } }));
    const toNova = converseRequest(nova, request({ reasoning: { budgetTokens: 2048 } }));

    expect(toClaude.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(toClaude.inferenceConfig).toEqual({ maxTokens: 3048 });
    expect(toNova.additionalModelRequestFields).toBeUndefined();
    expect(toNova.inferenceConfig).toEqual({ maxTokens: 1000, temperature: 0.2 });
  });
});

describe('history from stored exchanges', () => {
  const question = (exchange: number, text: string): StoredTurn => ({ exchange, role: 'user', text, time: '', region: 'eu-west-1', requestId: `r${exchange}` });
  const answer = (exchange: number, text: string, extra: Partial<StoredTurn> = {}): StoredTurn => ({
    exchange,
    role: 'assistant',
    text,
    time: '',
    region: 'eu-west-1',
    path: 'primary',
    model: claude.modelId,
    stopReason: 'end_turn',
    requestId: `r${exchange}`,
    ...extra,
  });
  const withTools = (exchange: number, stopReason = 'end_turn'): StoredTurn =>
    answer(exchange, 'Checking.\n\nIt shipped.', {
      stopReason,
      steps: [
        {
          step: 1,
          path: 'primary',
          model: claude.modelId,
          region: 'eu-west-1',
          text: 'Checking.',
          stopReason: 'tool_use',
          tools: [{ id: `t${exchange}`, name: 'lookup_order', input: { orderId: 'A-1' }, ok: true, result: { status: 'shipped' }, durationMs: 3 }],
        },
        { step: 2, path: 'regional-fallback', model: claude.modelId, region: 'eu-central-1', text: 'It shipped.', stopReason: 'end_turn' },
      ],
    });
  const shapes = (messages: ChatMessage[]) => messages.map((message) => [message.role, message.content.map((block) => block.type).join('+')]);

  test('an exchange that used tools is given back step by step, with its tool uses and results', () => {
    const history = historyOf([question(1, 'where is A-1?'), withTools(1)], { budgetBytes: 100_000, withTools: true });

    expect(shapes(history)).toEqual([
      ['user', 'text'],
      ['assistant', 'text+toolUse'],
      ['user', 'toolResult'],
      ['assistant', 'text'],
    ]);
    expect(history[2].content[0]).toEqual({ type: 'toolResult', toolUseId: 't1', status: 'success', content: [{ json: { status: 'shipped' } }] });
  });

  test('without tools now (removed since), past tool use is told as the answer text', () => {
    const history = historyOf([question(1, 'where is A-1?'), withTools(1)], { budgetBytes: 100_000, withTools: false });

    expect(history).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'where is A-1?' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.\n\nIt shipped.' }] },
    ]);
  });

  test('without tools now, an interrupted exchange that ran tools says they ran, not that they are shown above', () => {
    const interrupted = { ...withTools(1, 'max_steps'), incomplete: true };

    const history = historyOf([question(1, 'where is A-1?'), interrupted], { budgetBytes: 100_000, withTools: false });

    expect(history).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'where is A-1?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.\n\nIt shipped.' },
          { type: 'text', text: INTERRUPTED_NOTE_WITHOUT_TOOLS },
        ],
      },
    ]);
  });

  test('the byte budget keeps the newest exchanges, whole', () => {
    const turns = [1, 2, 3].flatMap((exchange) => [question(exchange, `question ${exchange} ${'x'.repeat(400)}`), answer(exchange, `answer ${exchange}`)]);

    const history = historyOf(turns, { budgetBytes: 1200, withTools: true });

    expect(history.map((message) => (message.content[0] as { text: string }).text.split(' ').slice(0, 2).join(' '))).toEqual([
      'question 2',
      'answer 2',
      'question 3',
      'answer 3',
    ]);
  });

  test('cut or unanswered exchanges are left out, and roles alternate after a turn that ended on tool results', () => {
    const turns = [question(1, 'first'), withTools(1, 'max_steps'), question(2, 'second'), answer(2, 'partial', { incomplete: true }), question(3, 'third')];
    turns[1].steps!.pop();

    const history = historyOf(turns, { budgetBytes: 100_000, withTools: true });

    expect(shapes(history)).toEqual([
      ['user', 'text'],
      ['assistant', 'text+toolUse'],
      ['user', 'toolResult'],
    ]);
  });
});
