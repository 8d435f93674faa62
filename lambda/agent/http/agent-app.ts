/**
 * The agent's HTTP API (see DESIGN.md): routing, the small routes, and the
 * error answers. Transport-free: it reads an AgentHttpRequest and writes to a
 * ResponseSink. A message's own flow is the MessagePipeline; an approval's,
 * and the paused answer it may resume, the ApprovalPipeline.
 */
import { randomBytes } from 'node:crypto';
import type { RuntimeConfig } from '../config';
import type { Clock } from '../chain/types';
import { stateUnavailable } from '../message/failures';
import { publicTurns } from '../message/stored-exchange';
import { ApprovalPipeline } from '../message/approval-pipeline';
import type { PipelineProps } from '../message/answer-steps';
import { MessagePipeline } from '../message/message-pipeline';
import { ConversationClaimedError, StateUnavailableError, type ConversationStore, type LoadedConversation } from '../store/conversation-store';
import type { Telemetry } from '../telemetry';
import { ConversationAccess, notFound } from './access';
import { HttpError } from './http-error';
import { OwnerRoutes } from './owner-routes';
import { parseConversationId, parseToolUseId, type ConversationId } from './request-schema';
import { TrackedSink } from './responses';
import type { AgentHttpRequest, ResponseSink } from './types';

export type AgentAppProps = Omit<PipelineProps, 'access'> & { clock: Clock };

const CONVERSATIONS_ROUTE = '/v1/conversations';
const EXPORT_ROUTE = '/v1/export';
const MESSAGES_ROUTE = /^\/v1\/conversations\/([^/]+)\/messages$/;
const CONVERSATION_ROUTE = /^\/v1\/conversations\/([^/]+)$/;
const APPROVAL_ROUTE = /^\/v1\/conversations\/([^/]+)\/approvals\/([^/]+)$/;

export class AgentApp {
  private readonly config: RuntimeConfig;
  private readonly store: ConversationStore;
  private readonly telemetry: Telemetry;
  private readonly access: ConversationAccess;
  private readonly messages: MessagePipeline;
  private readonly approvals: ApprovalPipeline;
  private readonly owners: OwnerRoutes;

  constructor(props: AgentAppProps) {
    this.config = props.config;
    this.store = props.store;
    this.telemetry = props.telemetry;
    this.access = new ConversationAccess(props.config);
    this.messages = new MessagePipeline({ ...props, access: this.access });
    this.approvals = new ApprovalPipeline({ ...props, access: this.access });
    this.owners = new OwnerRoutes({ ...props, access: this.access });
  }

  async handle(request: AgentHttpRequest, sink: ResponseSink): Promise<void> {
    const response = new TrackedSink(sink, request.method === 'HEAD', { keepAliveMs: this.config.deadlines.keepAliveMs, signal: request.signal });
    try {
      await this.route(request, response);
    } catch (error) {
      const httpError = error instanceof HttpError ? error : new HttpError(500, 'internal_error', 'the agent failed unexpectedly');
      if (!(error instanceof HttpError)) this.telemetry.logger.error('unhandled error', { requestId: request.requestId, error: (error as Error).stack });
      if (response.started) {
        response.write(response.streamFailure({ code: httpError.code, message: httpError.message, retryable: httpError.status >= 500 }));
        response.end();
      } else {
        response.json(request, this.config.region, httpError.status, httpError.body(), httpError.headers);
      }
    }
  }

  private async route(request: AgentHttpRequest, sink: TrackedSink): Promise<void> {
    if (request.path === '/health') {
      requireMethod(request, 'GET');
      sink.json(request, this.config.region, 200, JSON.stringify({ status: 'ok', region: this.config.region, jurisdiction: this.config.jurisdiction.name }));
      return;
    }
    if (request.path === CONVERSATIONS_ROUTE) {
      const method = requireMethod(request, 'POST', 'GET', 'DELETE');
      if (method === 'POST') await this.mint(request, sink);
      else if (method === 'GET') await this.owners.list(request, sink);
      else await this.owners.eraseAll(request, sink);
      return;
    }
    if (request.path === EXPORT_ROUTE) {
      requireMethod(request, 'GET');
      await this.owners.export(request, sink);
      return;
    }
    const messages = MESSAGES_ROUTE.exec(request.path);
    if (messages) {
      requireMethod(request, 'POST');
      await this.messages.handle(request, this.conversationIdOf(messages[1]), sink);
      return;
    }
    const approval = APPROVAL_ROUTE.exec(request.path);
    if (approval) {
      requireMethod(request, 'POST');
      await this.approvals.handle(request, this.conversationIdOf(approval[1]), parseToolUseId(approval[2]), sink);
      return;
    }
    const conversation = CONVERSATION_ROUTE.exec(request.path);
    if (conversation) {
      const method = requireMethod(request, 'GET', 'DELETE');
      if (method === 'GET') await this.getConversation(request, sink, this.conversationIdOf(conversation[1]));
      else await this.owners.deleteOne(request, sink, this.conversationIdOf(conversation[1]));
      return;
    }
    throw new HttpError(404, 'not_found', `no route for ${request.method} ${request.path}`);
  }

  /** POST /v1/conversations: a new conversation with an id carrying this jurisdiction's prefix, owned by the caller. */
  private async mint(request: AgentHttpRequest, sink: TrackedSink): Promise<void> {
    const owner = this.access.ownerOf(request);
    const conversationId = `${this.config.jurisdiction.name}.${randomBytes(16).toString('base64url')}`;
    let record;
    try {
      record = await this.store.create(conversationId, owner.id, this.config.jurisdiction.name);
    } catch (error) {
      // 128 random bits do not collide; a taken id is someone else's, and never revealed.
      if (error instanceof ConversationClaimedError) throw new HttpError(500, 'internal_error', 'could not mint a conversation id; try again');
      throw this.unavailable(error);
    }
    const body = { conversationId, jurisdiction: record.jurisdiction, createdAt: record.createdAt, expiresAt: new Date(record.expiresAt * 1000).toISOString() };
    sink.json(request, this.config.region, 201, JSON.stringify(body), { location: `${CONVERSATIONS_ROUTE}/${conversationId}` });
  }

  private async getConversation(request: AgentHttpRequest, sink: TrackedSink, conversation: ConversationId): Promise<void> {
    const owner = this.access.ownerOf(request);
    let loaded: LoadedConversation;
    try {
      loaded = await this.store.loadAll(conversation.id);
    } catch (error) {
      throw this.unavailable(error);
    }
    if (!loaded.record) throw notFound(conversation.id);
    this.access.check(loaded.record, owner, conversation.id);
    const turns = publicTurns(loaded.turns);
    sink.json(request, this.config.region, 200, JSON.stringify({ conversationId: conversation.id, jurisdiction: loaded.record.jurisdiction, turns }));
  }

  /** A parsed id; refused before anything is read when its prefix names another jurisdiction. */
  private conversationIdOf(encoded: string): ConversationId {
    const conversation = parseConversationId(encoded);
    this.access.checkPrefix(conversation);
    return conversation;
  }

  private unavailable(error: unknown): HttpError {
    if (!(error instanceof StateUnavailableError)) throw error;
    this.telemetry.stateUnavailable(error);
    return stateUnavailable();
  }
}

type Method = 'GET' | 'POST' | 'DELETE';

/** The request's method among the route's; GET routes answer HEAD too (same status and headers, no body). */
function requireMethod(request: AgentHttpRequest, ...methods: Method[]): Method {
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  const allowed = methods.find((candidate) => candidate === method);
  if (allowed) return allowed;
  const allow = methods.flatMap((candidate) => (candidate === 'GET' ? ['GET', 'HEAD'] : [candidate])).join(', ');
  throw new HttpError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${allow}`, {}, { allow });
}
