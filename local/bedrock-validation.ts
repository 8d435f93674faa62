/**
 * The checks Bedrock applies to a Converse request that a runtime is most
 * likely to get wrong, each refused with the message Bedrock answers (a 400
 * ValidationException), worded as Bedrock was seen answering: field
 * constraints in AWS's "N validation errors detected" form (list members
 * numbered from 1), tool pairing and empty content in Bedrock's own words
 * (message indexes from 0), reasoning and caching refusals as the models
 * return them through Bedrock.
 */
import { baseModelId, isAnthropic, thinkingEnabled, type ContentBlock, type ConverseMessage, type ConverseRequest } from './bedrock-model';

/** Bedrock's constraint on tool names, in toolConfig and in the tool uses of messages. */
const TOOL_NAME_PATTERN = '[a-zA-Z0-9_-]+';
const TOOL_NAME_MAX_LENGTH = 64;

/** Model families that accept cachePoint blocks (prompt caching). */
const PROMPT_CACHING_FAMILIES = [/^anthropic\./, /^amazon\.nova/];

/** AWS's field validation: every violated constraint, in one message. */
function fieldErrors(request: ConverseRequest): string | undefined {
  const violations: string[] = [];
  const checkName = (name: unknown, path: string) => {
    const value = typeof name === 'string' ? name : '';
    if (!new RegExp(`^${TOOL_NAME_PATTERN}$`).test(value)) {
      violations.push(`Value '${value}' at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${TOOL_NAME_PATTERN}`);
    }
    if (value.length < 1) violations.push(`Value '${value}' at '${path}' failed to satisfy constraint: Member must have length greater than or equal to 1`);
    if (value.length > TOOL_NAME_MAX_LENGTH) {
      violations.push(`Value '${value}' at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${TOOL_NAME_MAX_LENGTH}`);
    }
  };
  // AWS numbers list members from 1 in these paths.
  (request.toolConfig?.tools ?? []).forEach((tool, index) => {
    if (tool.toolSpec) checkName(tool.toolSpec.name, `toolConfig.tools.${index + 1}.member.toolSpec.name`);
  });
  (request.messages ?? []).forEach((message, index) =>
    (message.content ?? []).forEach((block, blockIndex) => {
      if (block.toolUse) checkName(block.toolUse.name, `messages.${index + 1}.member.content.${blockIndex + 1}.member.toolUse.name`);
    }),
  );
  if (violations.length === 0) return undefined;
  return `${violations.length} validation error${violations.length === 1 ? '' : 's'} detected: ${violations.join('; ')}`;
}

/** Roles, order and non-empty content: what every Converse request must have. */
function shapeErrors(messages: ConverseMessage[]): string | undefined {
  if (messages[0].role !== 'user') return 'A conversation must start with a user message.';
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index];
    if (index > 0 && message.role === messages[index - 1].role) return 'A conversation must alternate between user and assistant roles.';
    if (!Array.isArray(message.content) || message.content.length === 0) {
      return `The content field in the Message object at messages.${index} is empty. Add a ContentBlock object to the content field and try again.`;
    }
    // Only text blocks can be blank; tool, reasoning and cache blocks carry no text member.
    if (message.content.some((block) => typeof block.text === 'string' && block.text.trim() === '')) {
      return `messages.${index}.content: The text field in the ContentBlock object is blank.`;
    }
  }
  if (messages[messages.length - 1].role !== 'user') return 'A conversation must end with a user message.';
  return undefined;
}

const blocksOf = (message: ConverseMessage | undefined): ContentBlock[] => message?.content ?? [];

/**
 * A model's refusal of a request member it does not take: the form Nova was
 * seen answering for cachePoint and reasoningConfig; the wording for
 * reasoningContent and thinking is modelled on it, not observed.
 */
const extraneousKey = (key: string, path: string) =>
  `The model returned the following errors: Malformed input request: ${path}extraneous key [${key}] is not permitted, please reformat your input and try again.`;

/** Extended thinking and reasoning blocks: Anthropic models only, and never in a user message. */
function reasoningErrors(request: ConverseRequest, messages: ConverseMessage[], modelId: string): string | undefined {
  for (const [index, message] of messages.entries()) {
    const blockIndex = blocksOf(message).findIndex((block) => block.reasoningContent);
    if (blockIndex < 0) continue;
    if (message.role === 'user') return 'User messages cannot contain reasoning content. Please remove the reasoning content and try again.';
    if (!isAnthropic(modelId)) return extraneousKey('reasoningContent', `#/messages/${index}/content/${blockIndex}: `);
  }
  if (thinkingEnabled(request) && !isAnthropic(modelId)) return extraneousKey('thinking', '');
  // With thinking on, Claude must see its own reasoning again before the tool results it asked for.
  const last = messages.length - 1;
  const lastAssistant = messages[last - 1];
  if (thinkingEnabled(request) && blocksOf(messages[last]).some((block) => block.toolResult) && lastAssistant?.role === 'assistant') {
    const first = blocksOf(lastAssistant)[0];
    if (first && !first.reasoningContent) {
      const found = first.text !== undefined ? 'text' : first.toolUse ? 'tool_use' : Object.keys(first)[0];
      return (
        `The model returned the following errors: messages.${last - 1}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. ` +
        'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). ' +
        'We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. ' +
        'Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking'
      );
    }
  }
  return undefined;
}

function cachingErrors(request: ConverseRequest, modelId: string): string | undefined {
  const cachePoints = [
    ...(request.system ?? []),
    ...(request.toolConfig?.tools ?? []),
    ...(request.messages ?? []).flatMap((message) => blocksOf(message)),
  ].some((block) => block.cachePoint !== undefined);
  if (cachePoints && !PROMPT_CACHING_FAMILIES.some((family) => family.test(baseModelId(modelId)))) {
    return 'You invoked an unsupported model, or your request did not allow prompt caching. See the documentation for more information.';
  }
  return undefined;
}

/** Tool uses and tool results: only with a toolConfig, and every tool use answered by the next user message. */
function toolErrors(request: ConverseRequest, messages: ConverseMessage[]): string | undefined {
  const hasToolBlocks = messages.some((message) => blocksOf(message).some((block) => block.toolUse || block.toolResult));
  if (hasToolBlocks && !request.toolConfig) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  for (const [index, message] of messages.entries()) {
    if (message.role !== 'user') continue;
    const uses = index > 0 ? blocksOf(messages[index - 1]).flatMap((block) => (block.toolUse ? [block.toolUse.toolUseId] : [])) : [];
    const results = blocksOf(message).flatMap((block) => (block.toolResult ? [block.toolResult] : []));
    if (results.length > uses.length)
      return `The number of toolResult blocks at messages.${index}.content exceeds the number of toolUse blocks of previous turn.`;
    const answered = new Set(results.map((result) => result.toolUseId));
    const unanswered = uses.filter((id) => !answered.has(id));
    if (unanswered.length > 0) return `Expected toolResult blocks at messages.${index}.content for the following Ids: ${unanswered.join(', ')}`;
    const resultIndex = blocksOf(message).findIndex((block) => block.toolResult?.status === 'error' && (block.toolResult.content ?? []).length === 0);
    if (resultIndex >= 0) return `The content field at messages.${index}.content.${resultIndex}.toolResult cannot be empty when status value is error.`;
  }
  return undefined;
}

/** Bedrock's refusal of this request, or undefined when Bedrock would take it. */
export function validateConverseRequest(request: ConverseRequest, modelId: string): string | undefined {
  const fields = fieldErrors(request);
  if (fields) return fields;
  const messages = request.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 'messages must contain at least one message';
  return shapeErrors(messages) ?? toolErrors(request, messages) ?? reasoningErrors(request, messages, modelId) ?? cachingErrors(request, modelId);
}
