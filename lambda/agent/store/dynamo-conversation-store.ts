/**
 * The conversation store in the jurisdiction's home-region DynamoDB table.
 *
 * Items of one conversation share the partition key `conversation#<id>`:
 * - the conversation item (sort key `~conversation`, which sorts after every
 *   other item so that one descending query returns it first, followed by the
 *   most recent turns) records the owner, the jurisdiction, the exchange
 *   counter and the generation;
 * - each exchange N owns two turn items, `turn#<generation>#<N>#1` (user) and
 *   `…#2` (assistant), so answers stay next to their questions even when
 *   several messages of one conversation are in flight. Conversations stored
 *   before generations existed keep their `turn#<N>#1|2` keys and go on with
 *   them. Generations start with the creation time, so a later lifetime's
 *   turns sort after an earlier one's;
 * - a retried request's idempotency key is an item `idempotency#<key>#<generation>`.
 *
 * A turn's attributes, and how they fit one item, are in turn-item.ts.
 *
 * Listing: the conversation item carries `owner`, `updatedAt` (the last
 * message's arrival) and `title`, written by the claim that already exists
 * for every message, so the owner index (TableSchema.ownerIndex) costs no
 * call of its own: a message still costs one Query (two with an
 * Idempotency-Key), one UpdateItem (a PutItem for the first) and two PutItems.
 *
 * Deletion: a tombstone (`deletedAt`) on the conversation item, written in
 * the home region with a condition on the owner, which every read (strongly
 * consistent, home region) and every claim (conditional) honours at once;
 * then the conversation's other items go (BatchWriteItem). The tombstone
 * keeps no message text and expires a day later. A request that claimed
 * its exchange before the tombstone may still write its turns; no read
 * shows them, and a later erasure (or their TTL) removes them.
 *
 * Expiry: TTL deletes items in no particular order and days late, so every
 * read ignores items past their `expiresAt`, and a conversation item past it
 * counts as gone: the next message starts a new generation, whoever sends it.
 *
 * Concurrency: an exchange number is claimed with one conditional UpdateItem
 * on the conversation item (atomic counter, owner, jurisdiction and expiry
 * checked in the same write), so concurrent messages never share a number;
 * turns are written with attribute_not_exists, so nothing is overwritten. A
 * write whose condition fails is read back: if the item is the same
 * request's (the SDK retried a write whose answer was lost), it was stored.
 * No transactions: multi-region strongly consistent global tables do not
 * support them.
 *
 * Approvals: the calls a paused answer waits on are an `approval` map on the
 * conversation item. Answering a call is one UpdateItem that sets its
 * decision only if it has none and counts the calls still undecided, so two
 * answers racing from two regions record one; the answer that brings the
 * count to 0 resumes the loop. A new message's claim is refused in the same
 * conditional write while a call is undecided and unexpired.
 */
import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Clock } from '../chain/types';
import { TableSchema } from '../table-schema';
import {
  ApprovalAnsweredError,
  ApprovalNotFoundError,
  ApprovalPendingError,
  ConversationClaimedError,
  IdempotencyKeyTakenError,
  StateUnavailableError,
  TurnTakenError,
  type Claim,
  type Claimant,
  type ConversationRecord,
  type ConversationStore,
  type ConversationSummary,
  type IdempotencyEntry,
  type ListPosition,
  type LoadedConversation,
  type OwnerForms,
  type PendingApprovals,
  type ApprovalAnswer,
  type StoredTurn,
  waitsFor,
} from './conversation-store';
import { turnItem, turnOf } from './turn-item';
import { aliveAt, expiresAtSeconds } from '../expiry';

const CONVERSATION_SORT_KEY = '~conversation';
const TURN_PREFIX = 'turn#';
const IDEMPOTENCY_PREFIX = 'idempotency#';
/** A claim races only with other claims of the same id: a few rounds always settle it. */
const MAX_CLAIM_ROUNDS = 3;
/** DynamoDB's limit of requests in one BatchWriteItem. */
const BATCH_WRITE_LIMIT = 25;
/** Rounds of a batch's unprocessed items (throttled) before the removal counts as failed. */
const MAX_BATCH_ROUNDS = 8;
const DELETED_AT = 'deletedAt';
const APPROVAL = 'approval';
/** The stop reason of an answer that waits for approval (agent-loop.ts): only such a turn is ever written over. */
const PAUSED_STOP_REASON = 'approval_required';
const { ownerIndex } = TableSchema;

type Item = Record<string, unknown>;
interface Condition {
  expression: string;
  names: Record<string, string>;
  values?: Item;
}

export interface DynamoConversationStoreProps {
  client: DynamoDBDocumentClient;
  tableName: string;
  ttlDays: number;
  clock: Clock;
  /** Bound on each call, retries included: past it the call fails and the request degrades visibly. */
  callTimeoutMs: number;
}

export class DynamoConversationStore implements ConversationStore {
  constructor(private readonly props: DynamoConversationStoreProps) {}

  async load(conversationId: string, options: { turns: number; idempotencyKey?: string }): Promise<LoadedConversation> {
    const [items, idempotencyItems] = await Promise.all([
      this.query(conversationId, { ScanIndexForward: false, Limit: options.turns + 1 }),
      options.idempotencyKey === undefined ? Promise.resolve([]) : this.queryIdempotency(conversationId, options.idempotencyKey),
    ]);
    const loaded = this.interpret(items);
    // The key's item is named by the generation, which is only known once the conversation item is read.
    const entry = idempotencyItems.find((item) => item[TableSchema.sortKey] === idempotencySortKey(loaded.record?.generation, options.idempotencyKey ?? ''));
    if (loaded.record && entry && this.isLive(entry)) loaded.idempotency = toIdempotencyEntry(entry);
    return { ...loaded, turns: loaded.turns.reverse() };
  }

  async loadAll(conversationId: string): Promise<LoadedConversation> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.queryPage(conversationId, { ScanIndexForward: true, ExclusiveStartKey: startKey });
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return this.interpret(items);
  }

  async loadExchange(conversationId: string, record: ConversationRecord, exchange: number): Promise<StoredTurn[]> {
    const items = await this.query(conversationId, {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': TableSchema.partitionKey, '#sk': TableSchema.sortKey },
      ExpressionAttributeValues: { ':pk': partitionKeyOf(conversationId), ':prefix': turnPrefixOf(record.generation, exchange) },
    });
    return items.filter((item) => this.isLive(item)).map(toTurn);
  }

  async create(conversationId: string, owner: string, jurisdiction: string): Promise<ConversationRecord> {
    const record = this.newRecord(owner, jurisdiction, 0);
    try {
      await this.call('create the conversation', (options) =>
        this.props.client.send(
          this.putRecord(conversationId, record, {
            expression: 'attribute_not_exists(#pk) OR #ttl <= :nowSeconds',
            names: { '#pk': TableSchema.partitionKey, '#ttl': TableSchema.ttlAttribute },
            values: { ':nowSeconds': this.nowSeconds() },
          }),
          options,
        ),
      );
      return record;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.conditionFailedItem(conversationId, CONVERSATION_SORT_KEY, error);
      // A retried create whose first answer was lost finds its own conversation.
      if (existing && existing.owner === owner && existing.jurisdiction === jurisdiction && existing.exchanges === 0) return toRecord(existing);
      throw new ConversationClaimedError(toRecord(existing ?? {}));
    }
  }

  async claim(conversationId: string, claimant: Claimant): Promise<Claim> {
    const claim = await this.claimNumber(conversationId, claimant);
    if (claimant.idempotencyKey !== undefined) await this.holdIdempotencyKey(conversationId, claim, claimant, claimant.idempotencyKey);
    return claim;
  }

  async release(conversationId: string, claim: Claim, claimant: Claimant): Promise<void> {
    if (claimant.idempotencyKey !== undefined) {
      await this.deleteIfMatches(conversationId, idempotencySortKey(claim.generation, claimant.idempotencyKey), {
        expression: '#requestId = :requestId',
        names: { '#requestId': 'requestId' },
        values: { ':requestId': claimant.requestId },
      });
    }
    // A conversation this claim created is removed again unless another message has claimed a number since.
    if (claim.created) {
      await this.deleteIfMatches(conversationId, CONVERSATION_SORT_KEY, {
        expression: '#exchanges = :one AND #generation = :generation',
        names: { '#exchanges': 'exchanges', '#generation': 'generation' },
        values: { ':one': 1, ':generation': claim.generation },
      });
    }
  }

  async putTurn(conversationId: string, claim: Claim, turn: StoredTurn, write: { overPaused?: boolean } = {}): Promise<void> {
    const sortKey = `${turnPrefixOf(claim.generation, turn.exchange)}${turn.role === 'user' ? 1 : 2}`;
    try {
      await this.call('store a turn', (options) =>
        this.props.client.send(
          new PutCommand({
            TableName: this.props.tableName,
            Item: turnItem(turn, {
              ...this.key(conversationId, sortKey),
              ...(claim.generation ? { generation: claim.generation } : {}),
              [TableSchema.ttlAttribute]: this.expiresAt(),
            }),
            ...(write.overPaused
              ? {
                  ConditionExpression: '#stopReason = :paused',
                  ExpressionAttributeNames: { '#stopReason': 'stopReason' },
                  ExpressionAttributeValues: { ':paused': PAUSED_STOP_REASON },
                }
              : { ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': TableSchema.sortKey } }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          options,
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.conditionFailedItem(conversationId, sortKey, error);
      if (existing?.requestId !== turn.requestId) throw new TurnTakenError(`turn ${sortKey} is held by another request`);
    }
  }

  async holdApprovals(conversationId: string, claim: Claim, approvals: PendingApprovals): Promise<void> {
    await this.call('hold the approvals', (options) =>
      this.props.client.send(
        new UpdateCommand({
          TableName: this.props.tableName,
          Key: this.key(conversationId, CONVERSATION_SORT_KEY),
          UpdateExpression: 'SET #approval = :approval',
          // Only on the lifetime of the id that paused: never on a conversation started again since.
          ConditionExpression: claim.generation
            ? '#generation = :generation AND attribute_not_exists(#deletedAt)'
            : 'attribute_exists(#pk) AND attribute_not_exists(#generation) AND attribute_not_exists(#deletedAt)',
          ExpressionAttributeNames: {
            '#approval': APPROVAL,
            '#generation': 'generation',
            '#deletedAt': DELETED_AT,
            ...(claim.generation ? {} : { '#pk': TableSchema.partitionKey }),
          },
          ExpressionAttributeValues: { ':approval': approvals, ...(claim.generation ? { ':generation': claim.generation } : {}) },
        }),
        options,
      ),
    ).catch((error: unknown) => {
      if (error instanceof ConditionalCheckFailedException)
        throw new StateUnavailableError('the paused conversation changed before its approvals were held', error);
      throw error;
    });
  }

  async answerApproval(conversationId: string, owner: OwnerForms & { jurisdiction: string }, answer: ApprovalAnswer): Promise<PendingApprovals> {
    const owners = ownerValues(owner);
    try {
      const output = await this.call('answer the approval', (options) =>
        this.props.client.send(
          new UpdateCommand({
            TableName: this.props.tableName,
            Key: this.key(conversationId, CONVERSATION_SORT_KEY),
            UpdateExpression: `SET #approval.#calls.#id.#decision = :decision, #approval.#calls.#id.#answeredAt = :now, #approval.#calls.#id.#answeredRegion = :region${
              answer.reason !== undefined ? ', #approval.#calls.#id.#reason = :reason' : ''
            } ADD #approval.#undecided :minusOne`,
            ConditionExpression: `#owner IN (${Object.keys(owners).join(', ')}) AND #jurisdiction = :jurisdiction AND #ttl > :nowSeconds AND attribute_not_exists(#deletedAt) AND attribute_exists(#approval.#calls.#id) AND attribute_not_exists(#approval.#calls.#id.#decision)`,
            ExpressionAttributeNames: {
              '#owner': 'owner',
              '#jurisdiction': 'jurisdiction',
              '#ttl': TableSchema.ttlAttribute,
              '#deletedAt': DELETED_AT,
              '#approval': APPROVAL,
              '#calls': 'calls',
              '#id': answer.toolUseId,
              '#decision': 'decision',
              '#answeredAt': 'answeredAt',
              '#answeredRegion': 'answeredRegion',
              '#undecided': 'undecided',
              ...(answer.reason !== undefined ? { '#reason': 'reason' } : {}),
            },
            ExpressionAttributeValues: {
              ...owners,
              ':jurisdiction': owner.jurisdiction,
              ':nowSeconds': this.nowSeconds(),
              ':decision': answer.decision,
              ':now': this.nowIso(),
              ':region': answer.region,
              ':minusOne': -1,
              ...(answer.reason !== undefined ? { ':reason': answer.reason } : {}),
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          options,
        ),
      );
      return output.Attributes![APPROVAL] as PendingApprovals;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.conditionFailedItem(conversationId, CONVERSATION_SORT_KEY, error);
      if (!existing || !this.isLive(existing) || isDeleted(existing)) throw new ApprovalNotFoundError(`conversation ${conversationId} not found`);
      if (!ownedBy(existing, owner) || existing.jurisdiction !== owner.jurisdiction) throw new ConversationClaimedError(toRecord(existing));
      const call = (existing[APPROVAL] as PendingApprovals | undefined)?.calls[answer.toolUseId];
      if (!call) throw new ApprovalNotFoundError(`conversation ${conversationId} waits for no tool use ${answer.toolUseId}`);
      throw new ApprovalAnsweredError({ ...call, toolUseId: answer.toolUseId });
    }
  }

  async list(owner: string, options: { limit: number; after?: ListPosition }): Promise<{ conversations: ConversationSummary[]; next?: ListPosition }> {
    const conversations: ConversationSummary[] = [];
    let startKey: Item | undefined = options.after && this.indexKey(owner, options.after);
    do {
      const page = await this.queryOwnerIndex(owner, { Limit: options.limit, ExclusiveStartKey: startKey });
      const items = page.Items ?? [];
      for (const [index, item] of items.entries()) {
        if (!this.isLive(item) || isDeleted(item)) continue;
        conversations.push(toSummary(item));
        if (conversations.length < options.limit) continue;
        const more = index < items.length - 1 || page.LastEvaluatedKey !== undefined;
        return { conversations, ...(more ? { next: positionOf(item) } : {}) };
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { conversations };
  }

  async conversationIdsOf(owner: OwnerForms): Promise<string[]> {
    const ids: string[] = [];
    for (const form of new Set([owner.owner, ...owner.ownerAliases])) {
      let startKey: Item | undefined;
      do {
        const page = await this.queryOwnerIndex(form, { ExclusiveStartKey: startKey });
        ids.push(...(page.Items ?? []).map((item) => conversationIdOf(item)));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return ids;
  }

  async tombstone(conversationId: string, owner: OwnerForms & { jurisdiction: string }): Promise<boolean> {
    const owners = ownerValues(owner);
    try {
      await this.call('delete the conversation', (options) =>
        this.props.client.send(
          new UpdateCommand({
            TableName: this.props.tableName,
            Key: this.key(conversationId, CONVERSATION_SORT_KEY),
            // The title is message text: it goes with the tombstone, the counters and ids stay for a day.
            UpdateExpression: 'SET #deletedAt = :now, #ttl = :tombstoneTtl REMOVE #title',
            ConditionExpression: `attribute_exists(#pk) AND #owner IN (${Object.keys(owners).join(', ')}) AND #jurisdiction = :jurisdiction AND #ttl > :nowSeconds AND attribute_not_exists(#deletedAt)`,
            ExpressionAttributeNames: {
              '#pk': TableSchema.partitionKey,
              '#owner': 'owner',
              '#jurisdiction': 'jurisdiction',
              '#ttl': TableSchema.ttlAttribute,
              '#deletedAt': DELETED_AT,
              '#title': 'title',
            },
            ExpressionAttributeValues: {
              ...owners,
              ':jurisdiction': owner.jurisdiction,
              ':now': this.nowIso(),
              ':nowSeconds': this.nowSeconds(),
              ':tombstoneTtl': expiresAtSeconds(this.props.clock.now(), TableSchema.tombstoneSeconds * 1000),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          options,
        ),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.conditionFailedItem(conversationId, CONVERSATION_SORT_KEY, error);
      if (!existing || !this.isLive(existing) || isDeleted(existing)) return false;
      throw new ConversationClaimedError(toRecord(existing));
    }
  }

  async removeItems(conversationId: string, owner: OwnerForms): Promise<void> {
    const output = await this.call('read the conversation', (options) =>
      this.props.client.send(
        new GetCommand({ TableName: this.props.tableName, Key: this.key(conversationId, CONVERSATION_SORT_KEY), ConsistentRead: true }),
        options,
      ),
    );
    const record = output.Item;
    if (!record || !ownedBy(record, { owner: owner.owner, ownerAliases: owner.ownerAliases })) return;
    if (this.isLive(record) && !isDeleted(record)) return;
    if (!this.isLive(record)) {
      // An expired conversation's item goes too, unless a new message has just started the id again.
      const removed = await this.deleteIfMatches(conversationId, CONVERSATION_SORT_KEY, {
        expression: '#ttl = :seenTtl',
        names: { '#ttl': TableSchema.ttlAttribute },
        values: { ':seenTtl': record[TableSchema.ttlAttribute] },
      });
      if (!removed) return;
    }
    await this.removeAllBut(conversationId, CONVERSATION_SORT_KEY);
  }

  /** Every item of the conversation but the one with `keep` as its sort key, in batches of 25. */
  private async removeAllBut(conversationId: string, keep: string): Promise<void> {
    let startKey: Item | undefined;
    do {
      const page = await this.queryPage(conversationId, {
        ExclusiveStartKey: startKey,
        ProjectionExpression: '#pk, #sk',
        ExpressionAttributeNames: { '#pk': TableSchema.partitionKey, '#sk': TableSchema.sortKey },
      });
      const keys = (page.Items ?? []).filter((item) => item[TableSchema.sortKey] !== keep);
      for (let start = 0; start < keys.length; start += BATCH_WRITE_LIMIT) await this.deleteBatch(keys.slice(start, start + BATCH_WRITE_LIMIT));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** One BatchWriteItem of deletions, and again for what DynamoDB left unprocessed (throttling), with a growing pause. */
  private async deleteBatch(keys: Item[]): Promise<void> {
    let requests = keys.map((key) => ({ DeleteRequest: { Key: key } }));
    for (let round = 0; round < MAX_BATCH_ROUNDS && requests.length > 0; round += 1) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
      const output = await this.call("remove the conversation's items", (options) =>
        this.props.client.send(new BatchWriteCommand({ RequestItems: { [this.props.tableName]: requests } }), options),
      );
      requests = (output.UnprocessedItems?.[this.props.tableName] ?? []) as typeof requests;
    }
    if (requests.length > 0) throw new StateUnavailableError(`could not remove ${requests.length} items in the home region: still unprocessed`, undefined);
  }

  private queryOwnerIndex(owner: string, input: Partial<QueryCommandInput>) {
    return this.call('list the conversations', (options) =>
      this.props.client.send(
        new QueryCommand({
          TableName: this.props.tableName,
          IndexName: ownerIndex.name,
          KeyConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': ownerIndex.partitionKey },
          ExpressionAttributeValues: { ':owner': owner },
          // Latest activity first.
          ScanIndexForward: false,
          ...input,
        }),
        options,
      ),
    );
  }

  /** An index entry's full key (the table's and the index's), from which a listing goes on. */
  private indexKey(owner: string, position: ListPosition): Item {
    return {
      ...this.key(position.conversationId, CONVERSATION_SORT_KEY),
      [ownerIndex.partitionKey]: owner,
      [ownerIndex.sortKey]: position.updatedAt,
    };
  }

  /** The exchange counter's next number: continue a live conversation, or create it (again). */
  private async claimNumber(conversationId: string, claimant: Claimant): Promise<Claim> {
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round += 1) {
      try {
        return await this.continueConversation(conversationId, claimant);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const existing = await this.conditionFailedItem(conversationId, CONVERSATION_SORT_KEY, error);
        // A deleted conversation is refused like someone else's: the owner's refusal is then a 404 (http/access.ts).
        if (existing && this.isLive(existing) && (!ownedBy(existing, claimant) || existing.jurisdiction !== claimant.jurisdiction || isDeleted(existing))) {
          throw new ConversationClaimedError(toRecord(existing));
        }
        const approvals = existing && this.isLive(existing) ? toRecord(existing).approval : undefined;
        if (approvals && waitsFor(approvals, this.props.clock.now())) throw new ApprovalPendingError(approvals);
        // Absent or expired: start a new generation, unless someone else does so first (then go round again).
        if (!existing || !this.isLive(existing)) {
          const created = await this.startConversation(conversationId, claimant, existing);
          if (created) return created;
        }
      }
    }
    throw new StateUnavailableError(`could not claim an exchange in the home region: conversation ${conversationId} kept changing`, undefined);
  }

  private async continueConversation(conversationId: string, claimant: Claimant): Promise<Claim> {
    const owners = ownerValues(claimant);
    const output = await this.call('claim an exchange', (options) =>
      this.props.client.send(
        new UpdateCommand({
          TableName: this.props.tableName,
          Key: this.key(conversationId, CONVERSATION_SORT_KEY),
          // The title is the first message's: a conversation minted without one gets it here, in the same write.
          UpdateExpression: `SET #updatedAt = :now, #ttl = :ttl${claimant.title ? ', #title = if_not_exists(#title, :title)' : ''} ADD #exchanges :one`,
          // A new message waits until every call of a paused answer is answered, or has expired.
          ConditionExpression: `attribute_exists(#pk) AND #owner IN (${Object.keys(owners).join(', ')}) AND #jurisdiction = :jurisdiction AND #ttl > :nowSeconds AND attribute_not_exists(#deletedAt) AND (attribute_not_exists(#approval) OR #approval.#undecided <= :zero OR #approval.#expiresAtMs <= :nowMs)`,
          ExpressionAttributeNames: {
            '#pk': TableSchema.partitionKey,
            '#owner': 'owner',
            '#jurisdiction': 'jurisdiction',
            '#approval': APPROVAL,
            '#undecided': 'undecided',
            '#expiresAtMs': 'expiresAtMs',
            '#updatedAt': 'updatedAt',
            '#exchanges': 'exchanges',
            '#ttl': TableSchema.ttlAttribute,
            '#deletedAt': DELETED_AT,
            ...(claimant.title ? { '#title': 'title' } : {}),
          },
          ExpressionAttributeValues: {
            ...owners,
            ...(claimant.title ? { ':title': claimant.title } : {}),
            ':jurisdiction': claimant.jurisdiction,
            ':now': this.nowIso(),
            ':ttl': this.expiresAt(),
            ':nowSeconds': this.nowSeconds(),
            ':nowMs': this.props.clock.now(),
            ':zero': 0,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        options,
      ),
    );
    const record = toRecord(output.Attributes ?? {});
    return { exchange: record.exchanges, generation: record.generation, created: false };
  }

  /** Writes a new conversation item over nothing, or over the expired one seen; undefined when another write got there first. */
  private async startConversation(conversationId: string, claimant: Claimant, expired: Item | undefined): Promise<Claim | undefined> {
    const record = { ...this.newRecord(claimant.owner, claimant.jurisdiction, 1), ...(claimant.title ? { title: claimant.title } : {}) };
    const condition: Condition = expired
      ? { expression: '#ttl = :seenTtl', names: { '#ttl': TableSchema.ttlAttribute }, values: { ':seenTtl': expired[TableSchema.ttlAttribute] } }
      : { expression: 'attribute_not_exists(#pk)', names: { '#pk': TableSchema.partitionKey } };
    try {
      await this.call('claim an exchange', (options) => this.props.client.send(this.putRecord(conversationId, record, condition), options));
      return { exchange: 1, generation: record.generation, created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private async holdIdempotencyKey(conversationId: string, claim: Claim, claimant: Claimant, key: string): Promise<void> {
    const sortKey = idempotencySortKey(claim.generation, key);
    const entry: IdempotencyEntry = {
      requestId: claimant.requestId,
      exchange: claim.exchange,
      generation: claim.generation,
      inFlightUntil: claimant.inFlightUntil,
    };
    try {
      await this.call('hold the idempotency key', (options) =>
        this.props.client.send(
          new PutCommand({
            TableName: this.props.tableName,
            Item: { ...this.key(conversationId, sortKey), ...entry, [TableSchema.ttlAttribute]: this.expiresAt() },
            // Free, ours already (a retried write), or left behind by a request past its own time limit.
            ConditionExpression: 'attribute_not_exists(#sk) OR #requestId = :requestId OR #inFlightUntil < :nowMs',
            ExpressionAttributeNames: { '#sk': TableSchema.sortKey, '#requestId': 'requestId', '#inFlightUntil': 'inFlightUntil' },
            ExpressionAttributeValues: { ':requestId': claimant.requestId, ':nowMs': this.props.clock.now() },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          options,
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.conditionFailedItem(conversationId, sortKey, error);
      if (existing?.requestId !== claimant.requestId) throw new IdempotencyKeyTakenError(toIdempotencyEntry(existing ?? {}));
    }
  }

  /** Deletes the item if the condition holds; false when it did not. */
  private async deleteIfMatches(conversationId: string, sortKey: string, condition: Condition): Promise<boolean> {
    try {
      await this.call('give back a claim', (options) =>
        this.props.client.send(
          new DeleteCommand({
            TableName: this.props.tableName,
            Key: this.key(conversationId, sortKey),
            ConditionExpression: condition.expression,
            ExpressionAttributeNames: condition.names,
            ExpressionAttributeValues: condition.values,
          }),
          options,
        ),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  /** The item a failed condition saw: DynamoDB returns it (ALL_OLD); where it does not, read it. */
  private async conditionFailedItem(conversationId: string, sortKey: string, error: ConditionalCheckFailedException): Promise<Item | undefined> {
    // lib-dynamodb unmarshalls outputs, not errors: the old item comes back in attribute-value form.
    if (error.Item) return unmarshall(error.Item);
    const output = await this.call('read back a write', (options) =>
      this.props.client.send(new GetCommand({ TableName: this.props.tableName, Key: this.key(conversationId, sortKey), ConsistentRead: true }), options),
    );
    return output.Item;
  }

  /** Keeps the conversation item if it is live, and only its own generation's live turns. */
  private interpret(items: Item[]): LoadedConversation {
    const recordItem = items.find((item) => item[TableSchema.sortKey] === CONVERSATION_SORT_KEY);
    const record = recordItem && this.isLive(recordItem) ? toRecord(recordItem) : undefined;
    if (record && isDeleted(recordItem!)) return { turns: [], deleted: true };
    if (!record) return { turns: [] };
    const turns = items
      .filter((item) => String(item[TableSchema.sortKey]).startsWith(TURN_PREFIX) && item.generation === record.generation && this.isLive(item))
      .map(toTurn);
    return { record, turns };
  }

  private newRecord(owner: string, jurisdiction: string, exchanges: number): ConversationRecord {
    return { owner, jurisdiction, createdAt: this.nowIso(), exchanges, generation: this.newGeneration(), expiresAt: this.expiresAt() };
  }

  /** `g`, the creation time in ms (so later generations sort later), and randomness against two at the same ms. */
  private newGeneration(): string {
    return `g${String(this.props.clock.now()).padStart(13, '0')}${randomBytes(4).toString('hex')}`;
  }

  private putRecord(conversationId: string, record: ConversationRecord, condition: Condition): PutCommand {
    const { expiresAt, ...attributes } = record;
    return new PutCommand({
      TableName: this.props.tableName,
      Item: { ...this.key(conversationId, CONVERSATION_SORT_KEY), ...attributes, updatedAt: record.createdAt, [TableSchema.ttlAttribute]: expiresAt },
      ConditionExpression: condition.expression,
      ExpressionAttributeNames: condition.names,
      ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  }

  /** The key's entries of every generation (a handful at most); the live generation's is picked once the record is known. */
  private async queryIdempotency(conversationId: string, key: string): Promise<Item[]> {
    return this.query(conversationId, {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': TableSchema.partitionKey, '#sk': TableSchema.sortKey },
      ExpressionAttributeValues: { ':pk': partitionKeyOf(conversationId), ':prefix': `${IDEMPOTENCY_PREFIX}${key}#` },
    });
  }

  private async query(conversationId: string, options: Partial<QueryCommandInput>): Promise<Item[]> {
    return (await this.queryPage(conversationId, options)).Items ?? [];
  }

  private queryPage(conversationId: string, input: Partial<QueryCommandInput>) {
    return this.call('read the conversation', (options) =>
      this.props.client.send(
        new QueryCommand({
          TableName: this.props.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TableSchema.partitionKey },
          ExpressionAttributeValues: { ':pk': partitionKeyOf(conversationId) },
          ConsistentRead: true,
          ...input,
        }),
        options,
      ),
    );
  }

  /** Makes one call within the call bound; a failed condition is passed on, anything else makes the state unavailable. */
  private async call<Output>(action: string, request: (options: { abortSignal: AbortSignal }) => Promise<Output>): Promise<Output> {
    try {
      return await request({ abortSignal: AbortSignal.timeout(this.props.callTimeoutMs) });
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw error;
      throw new StateUnavailableError(`could not ${action} in the home region: ${(error as Error).name ?? 'error'}`, error);
    }
  }

  private isLive(item: Item): boolean {
    const expiresAt = Number(item[TableSchema.ttlAttribute]);
    return !Number.isFinite(expiresAt) || aliveAt(expiresAt, this.props.clock.now());
  }

  private key(conversationId: string, sortKey: string): Record<string, string> {
    return { [TableSchema.partitionKey]: partitionKeyOf(conversationId), [TableSchema.sortKey]: sortKey };
  }

  private nowSeconds(): number {
    return Math.floor(this.props.clock.now() / 1000);
  }

  private nowIso(): string {
    return new Date(this.props.clock.now()).toISOString();
  }

  private expiresAt(): number {
    return expiresAtSeconds(this.props.clock.now(), this.props.ttlDays * 86_400_000);
  }
}

function ownedBy(item: Item, owner: OwnerForms): boolean {
  return item.owner === owner.owner || owner.ownerAliases.includes(String(item.owner));
}

/** The owner's forms as expression values (`:owner0`, `:owner1`, ...), for `#owner IN (...)`. */
function ownerValues(owner: OwnerForms): Record<string, string> {
  return Object.fromEntries([owner.owner, ...owner.ownerAliases].map((form, index) => [`:owner${index}`, form]));
}

function isDeleted(item: Item): boolean {
  return item[DELETED_AT] !== undefined;
}

function conversationIdOf(item: Item): string {
  return String(item[TableSchema.partitionKey]).slice(PARTITION_PREFIX.length);
}

function positionOf(item: Item): ListPosition {
  return { conversationId: conversationIdOf(item), updatedAt: String(item[ownerIndex.sortKey]) };
}

function toSummary(item: Item): ConversationSummary {
  return {
    conversationId: conversationIdOf(item),
    ...(typeof item.title === 'string' ? { title: item.title } : {}),
    exchanges: Number(item.exchanges ?? 0),
    createdAt: String(item.createdAt ?? ''),
    updatedAt: String(item[ownerIndex.sortKey]),
  };
}

const PARTITION_PREFIX = 'conversation#';

function partitionKeyOf(conversationId: string): string {
  return `${PARTITION_PREFIX}${conversationId}`;
}

/** The sort-key prefix of one exchange's turns: generation-scoped, or the format of conversations stored before generations. */
function turnPrefixOf(generation: string | undefined, exchange: number): string {
  const number = String(exchange).padStart(10, '0');
  return generation ? `${TURN_PREFIX}${generation}#${number}#` : `${TURN_PREFIX}${number}#`;
}

/** Key first, so that one query finds a key's entries whatever the generation (keys cannot contain `#`). */
function idempotencySortKey(generation: string | undefined, key: string): string {
  return `${IDEMPOTENCY_PREFIX}${key}#${generation ?? 'legacy'}`;
}

function toRecord(item: Item): ConversationRecord {
  return {
    owner: String(item.owner ?? ''),
    jurisdiction: String(item.jurisdiction ?? ''),
    createdAt: String(item.createdAt ?? ''),
    exchanges: Number(item.exchanges ?? 0),
    generation: typeof item.generation === 'string' ? item.generation : undefined,
    expiresAt: Number(item[TableSchema.ttlAttribute] ?? 0),
    ...(typeof item.title === 'string' ? { title: item.title } : {}),
    ...(typeof item.updatedAt === 'string' ? { updatedAt: item.updatedAt } : {}),
    ...(typeof item[APPROVAL] === 'object' && item[APPROVAL] !== null ? { approval: item[APPROVAL] as PendingApprovals } : {}),
  };
}

function toIdempotencyEntry(item: Item): IdempotencyEntry {
  return {
    requestId: String(item.requestId ?? ''),
    exchange: Number(item.exchange ?? 0),
    generation: typeof item.generation === 'string' ? item.generation : undefined,
    inFlightUntil: Number(item.inFlightUntil ?? 0),
  };
}

function toTurn(item: Item): StoredTurn {
  return turnOf(item, [TableSchema.partitionKey, TableSchema.sortKey, TableSchema.ttlAttribute, 'generation']);
}
