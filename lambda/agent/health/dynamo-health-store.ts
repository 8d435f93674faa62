/**
 * The shared health records in the region's DynamoDB table: one item per
 * target under the region's partition, read with one Query (the table holds a
 * handful of items), written with UpdateItem so that a state change and a
 * latency share never erase each other's attributes. The region's run of
 * failed calls of a target is a counter on the same item (ADD), so that the
 * environments' failures add up without a read.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HealthTableSchema } from './health-table-schema';
import type { LedgerWrite } from './region-ledger';

export interface StateWrite {
  state: 'open' | 'closed';
  /** Epoch ms of the next probe of an open breaker. */
  until?: number;
  at: number;
  by: string;
  /** The writer's recent time to first token, shared with a closing. */
  firstTokenMs?: number;
}

/** Where the shared records live; the DynamoDB table in deployments, anything in tests. */
export interface HealthStore {
  /** Every record of the scope, unparsed. */
  read(scope: string): Promise<unknown[]>;
  writeState(scope: string, target: string, write: StateWrite, expiresAt: number): Promise<void>;
  writeLatency(scope: string, target: string, firstTokenMs: number, measuredAt: number, expiresAt: number): Promise<void>;
  /** Makes `by` the taker of an open breaker's probes, if the record is still the one written at `seenAt`. */
  takeOver(scope: string, target: string, seenAt: number, by: string, now: number, expiresAt: number): Promise<boolean>;
  /**
   * Adds a failed call to the region's run of failures of the target, or starts a new run when the last failure
   * was reported before `since`; resolves with the whole record after the write (unparsed), so that the writer
   * also learns whether another environment holds the target open.
   */
  addFailure(scope: string, target: string, at: number, since: number, expiresAt: number): Promise<unknown>;
  /** Ends the region's run of failures of the target, if its last failure was reported at `succeededAt` or before: a call succeeded then. */
  clearFailures(scope: string, target: string, succeededAt: number): Promise<void>;
  /** Adds counts to a ledger slot if it holds `bucket`, or makes it hold `bucket` if it held an older one; false when it holds a newer one. */
  addToLedger(scope: string, write: LedgerWrite, expiresAt: number): Promise<boolean>;
}

export interface DynamoHealthStoreProps {
  client: DynamoDBDocumentClient;
  tableName: string;
  callTimeoutMs: number;
}

const { partitionKey, sortKey, ttlAttribute } = HealthTableSchema;

export class DynamoHealthStore implements HealthStore {
  constructor(private readonly props: DynamoHealthStoreProps) {}

  async read(scope: string): Promise<unknown[]> {
    const output = await this.props.client.send(
      new QueryCommand({
        TableName: this.props.tableName,
        KeyConditionExpression: '#scope = :scope',
        ExpressionAttributeNames: { '#scope': partitionKey },
        ExpressionAttributeValues: { ':scope': scope },
      }),
      { abortSignal: this.timeout() },
    );
    return output.Items ?? [];
  }

  async writeState(scope: string, target: string, write: StateWrite, expiresAt: number): Promise<void> {
    const values: Record<string, unknown> = { ':state': write.state, ':at': write.at, ':by': write.by, ':expiresAt': expiresAt };
    const sets = ['#state = :state', '#at = :at', '#by = :by', '#expiresAt = :expiresAt'];
    if (write.until !== undefined) {
      values[':until'] = write.until;
      sets.push('#until = :until');
    }
    if (write.firstTokenMs !== undefined) {
      values[':firstTokenMs'] = write.firstTokenMs;
      sets.push('firstTokenMs = :firstTokenMs', 'measuredAt = :at');
    }
    // An opening or a closing ends the run of failures that led to it: the next run starts from none.
    await this.update(scope, target, `SET ${sets.join(', ')} REMOVE failures, failedAt${write.until === undefined ? ', #until' : ''}`, values);
  }

  async writeLatency(scope: string, target: string, firstTokenMs: number, measuredAt: number, expiresAt: number): Promise<void> {
    await this.update(scope, target, 'SET firstTokenMs = :firstTokenMs, measuredAt = :measuredAt, #expiresAt = :expiresAt', {
      ':firstTokenMs': firstTokenMs,
      ':measuredAt': measuredAt,
      ':expiresAt': expiresAt,
    });
  }

  async takeOver(scope: string, target: string, seenAt: number, by: string, now: number, expiresAt: number): Promise<boolean> {
    const taken = await this.updateIf(
      scope,
      target,
      'SET #by = :by, #until = :now, #at = :now, #expiresAt = :expiresAt',
      { ':by': by, ':now': now, ':expiresAt': expiresAt, ':seenAt': seenAt, ':open': 'open' },
      '#at = :seenAt AND #state = :open',
    );
    return taken !== undefined;
  }

  async addFailure(scope: string, target: string, at: number, since: number, expiresAt: number): Promise<unknown> {
    const values = { ':one': 1, ':at': at, ':expiresAt': expiresAt };
    const added = await this.updateIf(
      scope,
      target,
      'SET failedAt = :at, #expiresAt = :expiresAt ADD failures :one',
      { ...values, ':since': since },
      'attribute_not_exists(failedAt) OR failedAt >= :since',
      'ALL_NEW',
    );
    // Otherwise the last failure is too old to be part of this run: this one starts a new run.
    return added
      ? added.attributes
      : await this.update(scope, target, 'SET failures = :one, failedAt = :at, #expiresAt = :expiresAt', values, undefined, 'ALL_NEW');
  }

  async clearFailures(scope: string, target: string, succeededAt: number): Promise<void> {
    // Only an item with a run (an update of a missing item would create one without a time to live), and not a run
    // that failures after the success started anew.
    await this.updateIf(scope, target, 'REMOVE failures, failedAt', { ':succeededAt': succeededAt }, 'attribute_exists(failures) AND failedAt <= :succeededAt');
  }

  async addToLedger(scope: string, write: LedgerWrite, expiresAt: number): Promise<boolean> {
    const values = {
      ':bucket': write.bucket,
      ':requests': write.requests,
      ':fallbacks': write.fallbacks,
      ':overloads': write.overloads,
      ':expiresAt': expiresAt,
    };
    // One call in the common case: the slot holds this bucket already, or nothing yet.
    const add = () =>
      this.updateIf(
        scope,
        write.key,
        'ADD #requests :requests, #fallbacks :fallbacks, overloads :overloads SET #bucket = :bucket, #expiresAt = :expiresAt',
        values,
        'attribute_not_exists(#bucket) OR #bucket = :bucket',
      );
    if (await add()) return true;
    // The slot still holds a bucket of the ring's last turn: this one takes it over.
    const taken = await this.updateIf(
      scope,
      write.key,
      'SET #bucket = :bucket, #requests = :requests, #fallbacks = :fallbacks, overloads = :overloads, #expiresAt = :expiresAt',
      values,
      '#bucket < :bucket',
    );
    if (taken) return true;
    // Another environment took the slot over for this bucket meanwhile: the counts add to its; a newer bucket refuses both.
    return (await add()) !== undefined;
  }

  /** An update under a condition: its new attributes (when asked for), or undefined when the condition did not hold. */
  private async updateIf(
    scope: string,
    target: string,
    expression: string,
    values: Record<string, unknown> | undefined,
    condition: string,
    returnValues: 'NONE' | 'ALL_NEW' = 'NONE',
  ): Promise<{ attributes?: Record<string, unknown> } | undefined> {
    try {
      return { attributes: await this.update(scope, target, expression, values, condition, returnValues) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private async update(
    scope: string,
    target: string,
    expression: string,
    values: Record<string, unknown> | undefined,
    condition?: string,
    returnValues: 'NONE' | 'ALL_NEW' = 'NONE',
  ): Promise<Record<string, unknown> | undefined> {
    // Only the placeholders the expressions use: DynamoDB refuses unused ones.
    const names = Object.fromEntries(
      Object.entries({
        '#state': 'state',
        '#at': 'at',
        '#by': 'by',
        '#until': 'until',
        '#expiresAt': ttlAttribute,
        // Reserved words of DynamoDB's expressions, as the ones above.
        '#bucket': 'bucket',
        '#requests': 'requests',
        '#fallbacks': 'fallbacks',
      }).filter(([placeholder]) => `${expression} ${condition ?? ''}`.includes(placeholder)),
    );
    const output = await this.props.client.send(
      new UpdateCommand({
        TableName: this.props.tableName,
        Key: { [partitionKey]: scope, [sortKey]: target },
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
        ExpressionAttributeValues: values,
        ReturnValues: returnValues,
      }),
      { abortSignal: this.timeout() },
    );
    return output.Attributes;
  }

  private timeout(): AbortSignal {
    return AbortSignal.timeout(this.props.callTimeoutMs);
  }
}
