import * as fs from 'node:fs';
import * as path from 'node:path';
import { MultiRegionAgentError } from '../errors';

/**
 * The agent's instructions (its system prompt) given to the construct, for
 * an agent whose code does not define them. They are written into the
 * function's code asset as `instructions.md`, never into its environment,
 * so they may be of any practical size (Lambda's environment holds 4 KB).
 */
export class AgentInstructions {
  /** Instructions given as text. */
  static fromText(text: string): AgentInstructions {
    if (typeof text !== 'string' || text.trim() === '') {
      throw new MultiRegionAgentError(
        'EmptyInstructions',
        'AgentInstructions.fromText: the instructions are empty; give their text, or no instructions at all',
      );
    }
    return new AgentInstructions(text);
  }

  /** Instructions read from a UTF-8 text file (Markdown, say) at synthesis. */
  static fromFile(file: string): AgentInstructions {
    const resolved = path.resolve(file);
    if (!fs.existsSync(resolved) || !fs.statSync(resolved).isFile()) {
      throw new MultiRegionAgentError('InstructionsFileNotFound', `AgentInstructions.fromFile: ${resolved} is not a file`);
    }
    const text = fs.readFileSync(resolved, 'utf8');
    if (text.trim() === '') throw new MultiRegionAgentError('EmptyInstructions', `AgentInstructions.fromFile: ${resolved} is empty`);
    return new AgentInstructions(text);
  }

  private constructor(
    /** The instructions' text. */
    readonly text: string,
  ) {}
}
