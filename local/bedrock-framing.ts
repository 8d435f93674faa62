/**
 * How the emulated model's answer goes on the wire: AWS event-stream
 * messages for ConverseStream (the framing @aws-sdk/client-bedrock-runtime
 * parses), or the content blocks of one Converse JSON body.
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { deltasOf, fragmentsOf, type AnswerBlock } from './bedrock-model';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One event of a stream; deltas are what token faults count and token delays pace. */
export interface Frame {
  bytes: Uint8Array;
  isDelta: boolean;
}

/**
 * The events of an answer, as ConverseStream sends them: a text or reasoning
 * block is only deltas then a stop, a tool use opens with a start event
 * naming the tool, then sends its input as JSON fragments.
 */
export function framesOf(blocks: AnswerBlock[]): { frames: Frame[]; outputTokens: number } {
  const frames: Frame[] = [];
  let outputTokens = 0;
  const delta = (contentBlockIndex: number, value: unknown, counts = true) => {
    frames.push({ bytes: event('contentBlockDelta', { contentBlockIndex, delta: value }), isDelta: true });
    if (counts) outputTokens++;
  };
  blocks.forEach((block, contentBlockIndex) => {
    if (block.kind === 'reasoning') {
      for (const text of deltasOf(block.text)) delta(contentBlockIndex, { reasoningContent: { text } });
      delta(contentBlockIndex, { reasoningContent: { signature: block.signature } }, false);
    } else if (block.kind === 'text') {
      for (const text of deltasOf(block.text)) delta(contentBlockIndex, { text });
    } else {
      const start = { toolUse: { toolUseId: block.toolUseId, name: block.name } };
      frames.push({ bytes: event('contentBlockStart', { contentBlockIndex, start }), isDelta: false });
      for (const input of fragmentsOf(JSON.stringify(block.input))) delta(contentBlockIndex, { toolUse: { input } });
    }
    frames.push({ bytes: event('contentBlockStop', { contentBlockIndex }), isDelta: false });
  });
  return { frames, outputTokens };
}

/** A block of the answer as Converse returns it in one JSON body. */
export function contentBlockOf(block: AnswerBlock): unknown {
  if (block.kind === 'reasoning') return { reasoningContent: { reasoningText: { text: block.text, signature: block.signature } } };
  if (block.kind === 'text') return { text: block.text };
  return { toolUse: { toolUseId: block.toolUseId, name: block.name, input: block.input } };
}

/** One event message, as ConverseStream frames each event of its union. */
export function event(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** An exception message: the SDK throws it from the stream as the modeled error of that name. */
export function exception(exceptionType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}
