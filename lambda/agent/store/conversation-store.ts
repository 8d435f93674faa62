/**
 * The conversation store's contract: what the message pipeline needs of the
 * jurisdiction's home-region state, independent of DynamoDB. The DynamoDB
 * implementation is in dynamo-conversation-store.ts; tests may use any other.
 *
 * A conversation id may be used more than once over time: when a
 * conversation expires, the next message under its id starts a new one. A
 * conversation's turns belong to one *generation* of its id, so turns of an
 * earlier, expired conversation never reach the model or another caller.
 */
import type { Usage } from '../chain/types';
import type { Tier } from '../config';

export interface ConversationRecord {
  owner: string;
  jurisdiction: string;
  createdAt: string;
  /** The highest exchange number claimed so far (0 for a conversation minted without a message). */
  exchanges: number;
  /** Which lifetime of the id the turns belong to; undefined for conversations stored before generations existed. */
  generation?: string;
  /** Epoch seconds after which the conversation, and every turn of it, counts as gone. */
  expiresAt: number;
  /** The first words of the first message (see message/title.ts); absent before the first message. */
  title?: string;
  /** ISO-8601: when the last message arrived (its creation, before any). */
  updatedAt?: string;
  /** The calls of the last answer that stopped for approval, and their answers (kept once answered, until the next pause). */
  approval?: PendingApprovals;
}

/**
 * The tool calls of one paused answer that wait for the owner's approval.
 * It lives on the conversation item, so that answering a call, counting the
 * calls still unanswered and refusing a new message are each one
 * conditional write of one item, in any region of the jurisdiction.
 */
export interface PendingApprovals {
  /** The exchange whose answer paused. */
  exchange: number;
  /** The request that paused it. */
  requestId: string;
  /** Epoch ms after which an unanswered call reads as denied ("denied: approval expired"). */
  expiresAtMs: number;
  /** Calls not answered yet: the answer that brings it to 0 resumes the loop. */
  undecided: number;
  /** By tool-use id. */
  calls: Record<string, ApprovalCall>;
}

/** Whether a new message must wait: a call is still unanswered and has not expired. */
export function waitsFor(approvals: PendingApprovals, nowMs: number): boolean {
  return approvals.undecided > 0 && approvals.expiresAtMs > nowMs;
}

export type ApprovalDecisionKind = 'approved' | 'denied' | 'expired';

export interface ApprovalCall {
  tool: string;
  decision?: ApprovalDecisionKind;
  /** The owner's reason for a denial. */
  reason?: string;
  /** ISO-8601: when the call was answered. */
  answeredAt?: string;
  /** The region whose runtime took the answer. */
  answeredRegion?: string;
}

/** One owner's answer to one call, as the conditional write records it. */
export interface ApprovalAnswer {
  toolUseId: string;
  decision: ApprovalDecisionKind;
  reason?: string;
  region: string;
}

/** One conversation as an owner's listing shows it. */
export interface ConversationSummary {
  conversationId: string;
  title?: string;
  /** Messages sent in the conversation (exchange numbers claimed, an unanswered one included). */
  exchanges: number;
  createdAt: string;
  updatedAt: string;
}

/** Where an owner's listing goes on: the last conversation a page showed (the owner is never part of it). */
export interface ListPosition {
  conversationId: string;
  updatedAt: string;
}

/** The owner a listing, an export or an erasure is for, with the earlier forms of its identity (see http/identity.ts). */
export interface OwnerForms {
  owner: string;
  ownerAliases: string[];
}

export interface StoredTurn {
  exchange: number;
  role: 'user' | 'assistant';
  text: string;
  /** ISO-8601 time the turn was written. */
  time: string;
  /** The runtime region that received the message (user) or the endpoint region that answered (assistant). */
  region: string;
  path?: Tier;
  model?: string;
  /** The outside provider that answered (`openai:eu`); absent for Bedrock. */
  provider?: string;
  stopReason?: string;
  /** The answer stopped after its first token (stream failure); the text is partial. */
  incomplete?: boolean;
  /** The answer's token counts, when the model reported them (every step's, summed). */
  usage?: Usage;
  /** The model calls and tool runs of the answer, when it used tools: the next message gives them to the model as history. */
  steps?: StoredStep[];
  /** The request that wrote the turn: a write whose answer was lost is recognised by it. */
  requestId: string;
}

/**
 * A Step (agent/agent-loop.ts) as the exchange stores it: what served it
 * (flattened to path, model, region, provider), its text and stop reason,
 * and its tool calls as StoredToolCalls; no usage or timings. The API shows
 * it as a PublicStep.
 */
export interface StoredStep {
  step: number;
  path: Tier;
  model: string;
  region: string;
  /** The outside provider that answered (`openai:eu`); absent for Bedrock. */
  provider?: string;
  text: string;
  stopReason?: string;
  tools?: StoredToolCall[];
}

/** A tool call of a step (a ToolOutcome) as the exchange stores it: the input, and the result or error, as the model read them. */
export interface StoredToolCall {
  id: string;
  name: string;
  input: unknown;
  ok: boolean;
  durationMs: number;
  result?: unknown;
  error?: string;
  /** The result (or input) was larger than its limit and was cut, or left out to fit the item. */
  truncated?: boolean;
  /** The call waits for its owner's approval and has not run (see PendingApprovals). */
  awaitingApproval?: true;
}

/** A retried request's entry: which request holds the idempotency key, and for which exchange. */
export interface IdempotencyEntry {
  requestId: string;
  exchange: number;
  generation?: string;
  /** Epoch ms until which the holder may still be working; after it, a retry may take the key over. */
  inFlightUntil: number;
}

export interface LoadedConversation {
  /** Absent when the id was never used, was deleted, or has expired. */
  record?: ConversationRecord;
  /** The conversation was deleted (its tombstone is there): nothing may read or write it. */
  deleted?: boolean;
  /** The record's turns, oldest first: only its own generation, none past its expiry. */
  turns: StoredTurn[];
  /** The entry of the requested idempotency key, if it belongs to this conversation. */
  idempotency?: IdempotencyEntry;
}

/** Who asks for an exchange number, and how long it may hold it. */
export interface Claimant {
  owner: string;
  /** Earlier forms of the owner's identity that may hold its conversations (see http/identity.ts). */
  ownerAliases: string[];
  jurisdiction: string;
  requestId: string;
  idempotencyKey?: string;
  /** Epoch ms: the end of the claiming request's own time limit. */
  inFlightUntil: number;
  /** The conversation's title, kept from the first message that claims a number. */
  title?: string;
}

/** An exchange number held by one request. */
export interface Claim {
  exchange: number;
  generation?: string;
  /** This claim created the conversation (its first message). */
  created: boolean;
}

export interface ConversationStore {
  /** The conversation and its most recent `turns` turns, in one strongly consistent read (plus the idempotency entry, read alongside). */
  load(conversationId: string, options: { turns: number; idempotencyKey?: string }): Promise<LoadedConversation>;
  /** The conversation and every turn of it. */
  loadAll(conversationId: string): Promise<LoadedConversation>;
  /** The turns of one exchange (for replaying a retried request). */
  loadExchange(conversationId: string, record: ConversationRecord, exchange: number): Promise<StoredTurn[]>;
  /** Creates a conversation with no message yet; throws ConversationClaimedError if the id is taken. */
  create(conversationId: string, owner: string, jurisdiction: string): Promise<ConversationRecord>;
  /**
   * Claims the next exchange number, creating the conversation on its first
   * message (or again after it expired). Throws ConversationClaimedError when
   * another owner or jurisdiction holds the conversation, and
   * IdempotencyKeyTakenError when another request holds the idempotency key.
   */
  claim(conversationId: string, claimant: Claimant): Promise<Claim>;
  /** Gives back the claim of a request that ended without an answer. */
  release(conversationId: string, claim: Claim, claimant: Claimant): Promise<void>;
  /**
   * Writes one turn of a claimed exchange, never over another; a retried
   * write of the same request succeeds. `overPaused`: the turn replaces the
   * exchange's answer that stopped for approval (and only such an answer).
   */
  putTurn(conversationId: string, claim: Claim, turn: StoredTurn, options?: { overPaused?: boolean }): Promise<void>;
  /** Records the calls a paused answer waits on, on the conversation item of the claim's generation. */
  holdApprovals(conversationId: string, claim: Claim, approvals: PendingApprovals): Promise<void>;
  /**
   * Answers one waiting call with one conditional write, so that of two
   * answers racing (from two regions) exactly one is recorded: the
   * approvals as this answer left them. Throws ApprovalNotFoundError for a
   * call the conversation does not wait on, ApprovalAnsweredError for one
   * answered already, ConversationClaimedError for another owner's.
   */
  answerApproval(conversationId: string, owner: OwnerForms & { jurisdiction: string }, answer: ApprovalAnswer): Promise<PendingApprovals>;
  /**
   * A page of the owner's live conversations, latest activity first, after
   * `after`; `next` is where the following page starts, when there may be one.
   * Eventually consistent (a secondary index): a conversation just deleted
   * or created may be missing or shown for a moment.
   */
  list(owner: string, options: { limit: number; after?: ListPosition }): Promise<{ conversations: ConversationSummary[]; next?: ListPosition }>;
  /** Every conversation id the owner (in any of its forms) holds or held and may still have items of: live, deleted or expired. */
  conversationIdsOf(owner: OwnerForms): Promise<string[]>;
  /**
   * Marks the conversation deleted: a tombstone on its item in the home
   * region, which every read and write then honours. Its turns and keys go
   * with `removeItems`, which the caller may call after answering. False when there was nothing to delete
   * (never used, expired, already deleted); throws ConversationClaimedError
   * for another owner's or jurisdiction's.
   */
  tombstone(conversationId: string, owner: OwnerForms & { jurisdiction: string }): Promise<boolean>;
  /**
   * Removes every item of a deleted or expired conversation of the owner but
   * its tombstone (the conversation item of an expired one goes too). Does
   * nothing to a live conversation, or to one the owner does not hold.
   */
  removeItems(conversationId: string, owner: OwnerForms): Promise<void>;
}

/** The home region's table could not be read or written. */
export class StateUnavailableError extends Error {
  override readonly name = 'StateUnavailableError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** The conversation exists but belongs to another owner or jurisdiction. */
export class ConversationClaimedError extends Error {
  override readonly name = 'ConversationClaimedError';
  constructor(readonly record: ConversationRecord) {
    super('the conversation belongs to another owner or jurisdiction');
  }
}

/** Another request holds the idempotency key. */
export class IdempotencyKeyTakenError extends Error {
  override readonly name = 'IdempotencyKeyTakenError';
  constructor(readonly entry: IdempotencyEntry) {
    super('another request holds this idempotency key');
  }
}

/** The conversation waits on no such tool call. */
export class ApprovalNotFoundError extends Error {
  override readonly name = 'ApprovalNotFoundError';
}

/** The call was answered already: what was recorded. */
export class ApprovalAnsweredError extends Error {
  override readonly name = 'ApprovalAnsweredError';
  constructor(readonly call: ApprovalCall & { toolUseId: string }) {
    super(`tool use ${call.toolUseId} was ${call.decision} already`);
  }
}

/** A new message while the conversation waits for an approval that has not expired. */
export class ApprovalPendingError extends Error {
  override readonly name = 'ApprovalPendingError';
  constructor(readonly approvals: PendingApprovals) {
    super('the conversation waits for an approval');
  }
}

/** A turn's place is taken by another request's turn: nothing was written. */
export class TurnTakenError extends Error {
  override readonly name = 'TurnTakenError';
}
