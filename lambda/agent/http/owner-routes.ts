/**
 * What a chat product needs of an owner's conversations (the caller's, or
 * the end user's it acts for): list them, delete one, export them all, and
 * erase them all. Deletion is a tombstone in the home region first, which
 * every region's reads and writes honour at once; the items go after it.
 */
import type { RuntimeConfig } from '../config';
import { whileAvailable } from '../message/failures';
import { publicTurns } from '../message/stored-exchange';
import { ConversationClaimedError, type ConversationStore, type OwnerForms } from '../store/conversation-store';
import type { Telemetry } from '../telemetry';
import { notFound, type ConversationAccess } from './access';
import { HttpError } from './http-error';
import { owns, type Owner } from './identity';
import { encodeCursor, parseListQuery, type ConversationId } from './request-schema';
import type { TrackedSink } from './responses';
import type { AgentHttpRequest } from './types';

/** Conversations read at once for an export: enough to overlap the reads, few enough to leave the table's capacity to messages. */
const EXPORT_CONCURRENCY = 4;

export interface OwnerRoutesProps {
  config: RuntimeConfig;
  store: ConversationStore;
  telemetry: Telemetry;
  access: ConversationAccess;
  clock: { now(): number };
}

export class OwnerRoutes {
  constructor(private readonly props: OwnerRoutesProps) {}

  /** GET /v1/conversations?limit=N&cursor=C: the owner's conversations, latest activity first. */
  async list(request: AgentHttpRequest, sink: TrackedSink): Promise<void> {
    const owner = this.props.access.ownerOf(request);
    const { limit, after } = parseListQuery(request.query);
    const page = await this.stored(() => this.props.store.list(owner.id, { limit, after }));
    const conversations = page.conversations.map((conversation) => ({
      conversationId: conversation.conversationId,
      title: conversation.title ?? '',
      turns: conversation.exchanges,
      lastActivity: conversation.updatedAt,
      createdAt: conversation.createdAt,
    }));
    this.json(request, sink, 200, { conversations, ...(page.next ? { nextCursor: encodeCursor(page.next) } : {}) });
  }

  /** DELETE /v1/conversations/{id}: 204 once the tombstone is down, then its items go; 404 for what is not the caller's. */
  async deleteOne(request: AgentHttpRequest, sink: TrackedSink, conversation: ConversationId): Promise<void> {
    const owner = this.props.access.ownerOf(request);
    const deleted = await this.tombstone(conversation.id, owner);
    if (!deleted) throw notFound(conversation.id);
    sink.empty(request, this.props.config.region, 204);
    this.logDeleted(request, owner, [conversation.id], false);
    await this.props.store.removeItems(conversation.id, formsOf(owner)).catch((error: unknown) => this.props.telemetry.itemsLeft(conversation.id, error));
  }

  /**
   * DELETE /v1/conversations: every conversation of the owner is tombstoned,
   * then its items removed, before the answer: `deleted` counts the
   * conversations that were live. Deleted and expired ones that still had
   * items (a message in flight during an earlier delete) are swept too.
   */
  async eraseAll(request: AgentHttpRequest, sink: TrackedSink): Promise<void> {
    const owner = this.props.access.ownerOf(request);
    const forms = formsOf(owner);
    const ids = await this.stored(() => this.props.store.conversationIdsOf(forms));
    const deleted: string[] = [];
    for (const id of ids) if (await this.tombstone(id, owner).catch(skipOthers)) deleted.push(id);
    for (const id of ids) await this.stored(() => this.props.store.removeItems(id, forms));
    this.logDeleted(request, owner, deleted, true);
    this.json(request, sink, 200, { deleted: deleted.length });
  }

  /** GET /v1/export: every live conversation of the owner with every turn and its steps, as GET /v1/conversations/{id} shows them. */
  async export(request: AgentHttpRequest, sink: TrackedSink): Promise<void> {
    const owner = this.props.access.ownerOf(request);
    const exportedAt = new Date(this.props.clock.now()).toISOString();
    const ids = await this.stored(() => this.props.store.conversationIdsOf(formsOf(owner)));
    const conversations = (await mapConcurrently(ids, EXPORT_CONCURRENCY, (id) => this.exported(id, owner))).flatMap((item) => (item ? [item] : []));
    conversations.sort((a, b) => b.lastActivity.localeCompare(a.lastActivity));
    this.json(request, sink, 200, { owner: owner.id, ...(owner.endUser ? { endUser: owner.endUser } : {}), exportedAt, conversations });
  }

  /** One conversation of the export, read like GET /v1/conversations/{id} (strongly consistent, home region); undefined when deleted, expired or not the owner's. */
  private async exported(conversationId: string, owner: Owner) {
    const loaded = await this.stored(() => this.props.store.loadAll(conversationId));
    if (!loaded.record || !owns(owner, loaded.record.owner)) return undefined;
    return {
      conversationId,
      title: loaded.record.title ?? '',
      createdAt: loaded.record.createdAt,
      lastActivity: loaded.record.updatedAt ?? loaded.record.createdAt,
      turns: publicTurns(loaded.turns),
    };
  }

  /** True when this request tombstoned the conversation; a 404 or 409 for someone else's or another jurisdiction's. */
  private async tombstone(conversationId: string, owner: Owner): Promise<boolean> {
    try {
      return await this.stored(() => this.props.store.tombstone(conversationId, { ...formsOf(owner), jurisdiction: this.props.config.jurisdiction.name }));
    } catch (error) {
      if (!(error instanceof ConversationClaimedError)) throw error;
      throw this.props.access.refusal(error.record, owner, conversationId) ?? notFound(conversationId);
    }
  }

  private logDeleted(request: AgentHttpRequest, owner: Owner, conversationIds: string[], erasure: boolean): void {
    this.props.telemetry.conversationsDeleted({
      requestId: request.requestId,
      caller: owner.caller,
      ...(owner.endUser ? { endUser: owner.endUser } : {}),
      conversationIds,
      erasure,
    });
  }

  /** A store call whose unavailability is a 503 (and counted). */
  private stored<T>(call: () => Promise<T>): Promise<T> {
    return whileAvailable(this.props.telemetry, call);
  }

  private json(request: AgentHttpRequest, sink: TrackedSink, status: number, body: unknown): void {
    sink.json(request, this.props.config.region, status, JSON.stringify(body));
  }
}

function formsOf(owner: Owner): OwnerForms {
  return { owner: owner.id, ownerAliases: owner.aliases };
}

/** In an erasure, a conversation the index still lists under the owner but that another holds now is not the owner's to delete. */
function skipOthers(error: unknown): false {
  if (error instanceof HttpError && (error.status === 404 || error.status === 409)) return false;
  throw error;
}

/** `map` with at most `concurrency` calls in flight, results in input order. */
async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
