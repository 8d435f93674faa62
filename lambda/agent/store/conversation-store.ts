/**
 * Conversation state in the jurisdiction's home-region table.
 *
 * Items of one conversation share the partition key `conversation#<id>`:
 * - the conversation item (sort key `~conversation`, which sorts after every
 *   turn so that one descending query returns it first, followed by the most
 *   recent turns) records the owner, the jurisdiction and an exchange counter;
 * - each exchange N owns two turn items, `turn#<N>#1` (user) and
 *   `turn#<N>#2` (assistant), so answers stay next to their questions even
 *   when several messages of one conversation are in flight.
 *
 * Concurrency: the exchange number is claimed with one conditional
 * UpdateItem on the conversation item (atomic counter, ownership and
 * jurisdiction checked in the same write), so concurrent messages never
 * share a number; turns are then written with attribute_not_exists, so
 * nothing is ever overwritten. No transactions: multi-region strongly
 * consistent global tables do not support them.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Tier } from '../config';
import { TableSchema } from '../table-schema';
import type { Clock } from '../chain/types';

const CONVERSATION_SORT_KEY = '~conversation';
const TURN_PREFIX = 'turn#';

export interface ConversationRecord {
  owner: string;
  jurisdiction: string;
  createdAt: string;
  exchanges: number;
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
  stopReason?: string;
  /** The answer stopped after its first token (stream failure); the text is partial. */
  incomplete?: boolean;
  requestId: string;
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

export interface ConversationStoreProps {
  client: DynamoDBDocumentClient;
  tableName: string;
  ttlDays: number;
  clock: Clock;
  /** Bound on each call, retries included: past it the call fails and the request degrades visibly. */
  callTimeoutMs: number;
}

export class ConversationStore {
  constructor(private readonly props: ConversationStoreProps) {}

  /**
   * The conversation item and its most recent turns, oldest first, in one
   * strongly consistent query against the home region.
   */
  async loadRecent(conversationId: string, turns: number): Promise<{ record?: ConversationRecord; turns: StoredTurn[] }> {
    const output = await this.query(conversationId, { ScanIndexForward: false, Limit: turns + 1 });
    return this.split(output.Items ?? [], true);
  }

  /** Every turn of the conversation, oldest first. */
  async loadAll(conversationId: string): Promise<{ record?: ConversationRecord; turns: StoredTurn[] }> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.query(conversationId, { ScanIndexForward: true, ExclusiveStartKey: startKey });
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    return this.split(items, false);
  }

  /**
   * Claims the next exchange number, creating the conversation on its first
   * message. Throws ConversationClaimedError when another owner or
   * jurisdiction holds the conversation.
   */
  async claimExchange(conversationId: string, owner: string, jurisdiction: string): Promise<number> {
    const now = new Date(this.props.clock.now()).toISOString();
    try {
      const output = await this.props.client.send(
        new UpdateCommand({
          TableName: this.props.tableName,
          Key: this.key(conversationId, CONVERSATION_SORT_KEY),
          UpdateExpression:
            'SET #owner = if_not_exists(#owner, :owner), #jurisdiction = if_not_exists(#jurisdiction, :jurisdiction), #createdAt = if_not_exists(#createdAt, :now), #updatedAt = :now, #ttl = :ttl ADD #exchanges :one',
          ConditionExpression: 'attribute_not_exists(#pk) OR (#owner = :owner AND #jurisdiction = :jurisdiction)',
          ExpressionAttributeNames: {
            '#pk': TableSchema.partitionKey,
            '#owner': 'owner',
            '#jurisdiction': 'jurisdiction',
            '#createdAt': 'createdAt',
            '#updatedAt': 'updatedAt',
            '#exchanges': 'exchanges',
            '#ttl': TableSchema.ttlAttribute,
          },
          ExpressionAttributeValues: { ':owner': owner, ':jurisdiction': jurisdiction, ':now': now, ':ttl': this.expiresAt(), ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        this.bounded(),
      );
      return Number(output.Attributes?.exchanges);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // lib-dynamodb unmarshalls outputs, not errors: the old item comes back in attribute-value form.
        throw new ConversationClaimedError(toRecord(error.Item ? unmarshall(error.Item) : {}));
      }
      throw unavailable('claim an exchange', error);
    }
  }

  /**
   * Gives back a claim whose request ended without an answer. A conversation
   * created by that claim is removed again unless another message has
   * claimed a number since; any later number simply stays unused.
   */
  async abandonExchange(conversationId: string, exchange: number): Promise<void> {
    if (exchange !== 1) return;
    try {
      await this.props.client.send(
        new DeleteCommand({
          TableName: this.props.tableName,
          Key: this.key(conversationId, CONVERSATION_SORT_KEY),
          ConditionExpression: '#exchanges = :one',
          ExpressionAttributeNames: { '#exchanges': 'exchanges' },
          ExpressionAttributeValues: { ':one': 1 },
        }),
        this.bounded(),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw unavailable('give back an exchange', error);
    }
  }

  /** Writes one turn; never overwrites (each exchange/role pair is written once). */
  async putTurn(conversationId: string, turn: StoredTurn): Promise<void> {
    const sortKey = `${TURN_PREFIX}${String(turn.exchange).padStart(10, '0')}#${turn.role === 'user' ? 1 : 2}`;
    try {
      await this.props.client.send(
        new PutCommand({
          TableName: this.props.tableName,
          Item: { ...this.key(conversationId, sortKey), ...turn, [TableSchema.ttlAttribute]: this.expiresAt() },
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': TableSchema.sortKey },
        }),
        this.bounded(),
      );
    } catch (error) {
      throw unavailable('store a turn', error);
    }
  }

  /** Options of every call: its timeout, retries included. */
  private bounded(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.props.callTimeoutMs) };
  }

  private async query(
    conversationId: string,
    options: { ScanIndexForward: boolean; Limit?: number; ExclusiveStartKey?: Record<string, unknown> },
  ): Promise<QueryCommandOutput> {
    try {
      return await this.props.client.send(
        new QueryCommand({
          TableName: this.props.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TableSchema.partitionKey },
          ExpressionAttributeValues: { ':pk': partitionKeyOf(conversationId) },
          ConsistentRead: true,
          ...options,
        }),
        this.bounded(),
      );
    } catch (error) {
      throw unavailable('read the conversation', error);
    }
  }

  private split(items: Record<string, unknown>[], descending: boolean): { record?: ConversationRecord; turns: StoredTurn[] } {
    const recordItem = items.find((item) => item[TableSchema.sortKey] === CONVERSATION_SORT_KEY);
    const turns = items.filter((item) => String(item[TableSchema.sortKey]).startsWith(TURN_PREFIX)).map(toTurn);
    return { record: recordItem ? toRecord(recordItem) : undefined, turns: descending ? turns.reverse() : turns };
  }

  private key(conversationId: string, sortKey: string): Record<string, string> {
    return { [TableSchema.partitionKey]: partitionKeyOf(conversationId), [TableSchema.sortKey]: sortKey };
  }

  private expiresAt(): number {
    return Math.floor(this.props.clock.now() / 1000) + this.props.ttlDays * 86_400;
  }
}

function partitionKeyOf(conversationId: string): string {
  return `conversation#${conversationId}`;
}

function toRecord(item: Record<string, unknown>): ConversationRecord {
  return {
    owner: String(item.owner ?? ''),
    jurisdiction: String(item.jurisdiction ?? ''),
    createdAt: String(item.createdAt ?? ''),
    exchanges: Number(item.exchanges ?? 0),
  };
}

function toTurn(item: Record<string, unknown>): StoredTurn {
  const { [TableSchema.partitionKey]: _pk, [TableSchema.sortKey]: _sk, [TableSchema.ttlAttribute]: _ttl, ...turn } = item;
  return turn as unknown as StoredTurn;
}

function unavailable(action: string, error: unknown): StateUnavailableError {
  return new StateUnavailableError(`could not ${action} in the home region: ${(error as Error).name ?? 'error'}`, error);
}
