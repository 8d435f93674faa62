/**
 * Builds the assistant message a target streams, block by block: text,
 * tool uses (whose input arrives as JSON fragments) and reasoning.
 */
import type { ChatMessage, ContentBlock, ModelEvent } from './types';

type OpenBlock =
  | { type: 'text'; text: string }
  | { type: 'toolUse'; toolUseId: string; name: string; input: string }
  | { type: 'reasoning'; text: string; signature: string; redacted: string };

/** Events that are model output: the first one is the answer's first token. */
export function isOutput(event: ModelEvent): boolean {
  return event.type === 'delta' || event.type === 'toolUse' || event.type === 'reasoning';
}

export class MessageAssembler {
  private readonly blocks: ContentBlock[] = [];
  private open?: OpenBlock;

  /** `family`: the model family, recorded on reasoning blocks (no other family can read them). */
  constructor(private readonly family: string) {}

  add(event: ModelEvent): void {
    if (event.type === 'delta') this.openOf('text').text += event.text;
    else if (event.type === 'toolUse') {
      this.close();
      this.open = { type: 'toolUse', toolUseId: event.toolUseId, name: event.name, input: '' };
    } else if (event.type === 'toolInput' && this.open?.type === 'toolUse') this.open.input += event.input;
    else if (event.type === 'reasoning') {
      const block = this.openOf('reasoning');
      block.text += event.text ?? '';
      block.signature += event.signature ?? '';
      block.redacted += event.redacted ?? '';
    } else if (event.type === 'blockStop') this.close();
  }

  /** The message so far: every block, the open one included. */
  message(): ChatMessage {
    const open = this.open ? [finish(this.open, this.family)] : [];
    return { role: 'assistant', content: [...this.blocks, ...open].filter((block) => block.type !== 'text' || block.text.length > 0) };
  }

  private openOf<Type extends 'text' | 'reasoning'>(type: Type): Extract<OpenBlock, { type: Type }> {
    if (this.open?.type !== type) {
      this.close();
      this.open = type === 'text' ? { type: 'text', text: '' } : { type: 'reasoning', text: '', signature: '', redacted: '' };
    }
    return this.open as Extract<OpenBlock, { type: Type }>;
  }

  private close(): void {
    if (this.open) this.blocks.push(finish(this.open, this.family));
    this.open = undefined;
  }
}

function finish(block: OpenBlock, family: string): ContentBlock {
  if (block.type === 'text') return block;
  if (block.type === 'toolUse') return { type: 'toolUse', toolUseId: block.toolUseId, name: block.name, input: parseInput(block.input) };
  return {
    type: 'reasoning',
    family,
    ...(block.text ? { text: block.text } : {}),
    ...(block.signature ? { signature: block.signature } : {}),
    ...(block.redacted ? { redacted: block.redacted } : {}),
  };
}

/** A tool use's input: its JSON, `{}` when the model sent none; what does not parse is kept as text, for the tool's validation to refuse. */
function parseInput(input: string): unknown {
  if (input.trim() === '') return {};
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}
