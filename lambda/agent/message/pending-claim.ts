/**
 * The exchange number of a message, claimed while the model works on its
 * first token so that the write costs no time to first token. The claim
 * also creates the conversation and checks its owner, jurisdiction and the
 * idempotency key atomically; a refusal aborts the model call.
 */
import type { HttpError } from '../http/http-error';
import {
  ApprovalPendingError,
  ConversationClaimedError,
  IdempotencyKeyTakenError,
  type Claim,
  type Claimant,
  type ConversationRecord,
  type ConversationStore,
  type PendingApprovals,
} from '../store/conversation-store';

export interface ClaimOutcome {
  claim?: Claim;
  /** Why the request may not go on (someone else's conversation, another request holding the key, a keyed request that cannot claim). */
  refusal?: HttpError;
  /** The table could not be written: the answer goes on, visibly not stored. */
  unavailable?: unknown;
}

export interface PendingClaimProps {
  store: ConversationStore;
  conversationId: string;
  claimant: Claimant;
  /** The answer to a conversation held by someone else or elsewhere. */
  refusalFor(record: ConversationRecord): HttpError;
  /** The answer to a retried request whose key another request holds. */
  inFlight(): HttpError;
  /** The answer to a new message while a tool call waits for approval. */
  approvalPending(approvals: PendingApprovals): HttpError;
  /** The answer when the claim cannot be written; undefined to go on, visibly not stored. */
  unreachable(): HttpError | undefined;
  /** Called on a refusal: the model call must stop. */
  onRefused(): void;
}

export class PendingClaim {
  private readonly outcome: Promise<ClaimOutcome>;

  /** `skip`: the table just failed a read; the answer is degraded anyway, so do not wait on it a second time. */
  constructor(
    private readonly props: PendingClaimProps,
    skip: boolean,
  ) {
    this.outcome = skip
      ? Promise.resolve({})
      : // setImmediate: let the first model request go out before the claim's own serialization and signing.
        new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.claim());
  }

  /** Resolves once the claim is settled; never rejects. */
  settled(): Promise<ClaimOutcome> {
    return this.outcome;
  }

  /** Gives the claim back when the request ended without an answer. */
  async release(): Promise<void> {
    const { claim } = await this.outcome;
    if (claim) await this.props.store.release(this.props.conversationId, claim, this.props.claimant);
  }

  private async claim(): Promise<ClaimOutcome> {
    try {
      return { claim: await this.props.store.claim(this.props.conversationId, this.props.claimant) };
    } catch (error) {
      if (error instanceof ConversationClaimedError) return this.refuse(this.props.refusalFor(error.record));
      if (error instanceof IdempotencyKeyTakenError) return this.refuse(this.props.inFlight());
      if (error instanceof ApprovalPendingError) return this.refuse(this.props.approvalPending(error.approvals));
      const refusal = this.props.unreachable();
      return refusal ? { ...this.refuse(refusal), unavailable: error } : { unavailable: error };
    }
  }

  private refuse(refusal: HttpError): ClaimOutcome {
    this.props.onRefused();
    return { refusal };
  }
}
