/**
 * Who may reach a conversation from this runtime: its owner (the caller, or
 * the caller and the end user it acts for), in its own jurisdiction. Someone else's conversation is a 404 (never reveal that it
 * exists); another jurisdiction's is a 409 naming the host to use, a status
 * that no HTTP client resends on its own (a 421 would be: RFC 9110 lets
 * clients retry it on another connection, and Node's fetch does).
 */
import type { RuntimeConfig } from '../config';
import type { ConversationRecord } from '../store/conversation-store';
import { EndUsers } from './end-user';
import { HttpError } from './http-error';
import { owns, type Owner } from './identity';
import type { AgentHttpRequest } from './types';
import type { ConversationId } from './request-schema';

export class ConversationAccess {
  private readonly endUsers: EndUsers;

  constructor(private readonly config: Pick<RuntimeConfig, 'jurisdiction' | 'jurisdictionHosts' | 'onBehalfCallers'>) {
    this.endUsers = new EndUsers(config.onBehalfCallers);
  }

  /** The owner of the request's conversations (see end-user.ts); 401 when the request carries no identity (API Gateway authorizes first: defence in depth). */
  ownerOf(request: AgentHttpRequest): Owner {
    return this.endUsers.ownerOf(request);
  }

  /** Refuses an id whose prefix names another jurisdiction, before anything is read or processed. */
  checkPrefix(conversation: ConversationId): void {
    const { prefix } = conversation;
    if (prefix === undefined || prefix === this.config.jurisdiction.name) return;
    if (!(prefix in this.config.jurisdictionHosts)) {
      throw new HttpError(400, 'invalid_conversation_id', `conversation id prefix '${prefix}' names no known jurisdiction`);
    }
    throw this.wrongJurisdiction(prefix);
  }

  /**
   * A new conversation in a restricted jurisdiction needs an id carrying its
   * prefix: without it, a runtime of another jurisdiction (reached when this
   * one's regions are down) could not tell where the conversation lives and
   * would silently start a second one there.
   */
  checkNewConversation(conversation: ConversationId): void {
    const { jurisdiction } = this.config;
    if (conversation.prefix !== undefined || !jurisdiction.restricted) return;
    throw new HttpError(
      400,
      'unprefixed_conversation_id',
      `jurisdiction ${jurisdiction.name} is restricted: a new conversation's id must start with '${jurisdiction.name}.' so that every region can tell where it lives; POST /v1/conversations mints one`,
    );
  }

  /** Why this caller may not use the conversation here, if it may not. */
  refusal(record: ConversationRecord, owner: Owner, conversationId: string): HttpError | undefined {
    if (!owns(owner, record.owner)) return notFound(conversationId);
    if (record.jurisdiction !== this.config.jurisdiction.name) return this.wrongJurisdiction(record.jurisdiction);
    return undefined;
  }

  check(record: ConversationRecord, owner: Owner, conversationId: string): void {
    const refusal = this.refusal(record, owner, conversationId);
    if (refusal) throw refusal;
  }

  wrongJurisdiction(jurisdiction: string): HttpError {
    const host = this.config.jurisdictionHosts[jurisdiction];
    return new HttpError(409, 'wrong_jurisdiction', `this conversation is held in jurisdiction ${jurisdiction}${host ? `; send it to https://${host}` : ''}`, {
      jurisdiction,
      ...(host ? { host } : {}),
    });
  }
}

export function notFound(conversationId: string): HttpError {
  return new HttpError(404, 'not_found', `conversation ${conversationId} not found`);
}
