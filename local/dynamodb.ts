/**
 * An embedded DynamoDB for tests and the local playground: dynalite (an
 * in-memory implementation of the DynamoDB API, maintained and used by the
 * AWS community for exactly this) started in-process on loopback, with the
 * conversation table created from the same key names the constructs use.
 * dynalite does not implement UpdateTimeToLive, so expiry is not emulated;
 * the runtime still writes the TTL attribute on every item.
 *
 * DynamoDB's own ConditionalCheckFailedRequests (per table) is observed
 * around dynalite's request handler: each write answered with a
 * ConditionalCheckFailedException is reported to `onConditionalCheckFailed`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HealthTableSchema } from '../lambda/agent/health/health-table-schema';
import { TableSchema } from '../lambda/agent/table-schema';
import { listen } from './listen';

// dynalite ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => Server = require('dynalite');

/** Static credentials for clients of local emulators; nothing checks them. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalDynamoDbOptions {
  port?: number;
  host?: string;
  /**
   * A directory to keep the tables in (LevelDB files), so that they survive
   * a restart. @default - in memory
   */
  path?: string;
  /** Called with the table's name for each conditional write (PutItem, UpdateItem, DeleteItem) whose condition failed. */
  onConditionalCheckFailed?: (tableName: string) => void;
}

export class LocalDynamoDb {
  static async start(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
    const server = dynalite({ createTableMs: 0, updateTableMs: 0, deleteTableMs: 0, ...(options.path ? { path: options.path } : {}) });
    if (options.onConditionalCheckFailed) observeConditionalCheckFailures(server, options.onConditionalCheckFailed);
    return new LocalDynamoDb(server, await listen(server, options.port ?? 0, options.host ?? '127.0.0.1'));
  }

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  /** Creates a table with the conversation table's key schema (on-demand, like the deployed one), unless it exists. */
  async createConversationTable(name: string): Promise<void> {
    await this.createTable(name, TableSchema);
  }

  /** Creates a table with the target-health table's key schema (on-demand, like the deployed one), unless it exists. */
  async createHealthTable(name: string): Promise<void> {
    await this.createTable(name, HealthTableSchema);
  }

  private async createTable(name: string, schema: { partitionKey: string; sortKey: string }): Promise<void> {
    const client = new DynamoDBClient({ region: 'local', endpoint: this.endpoint, credentials: LOCAL_CREDENTIALS });
    try {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: schema.partitionKey, AttributeType: 'S' },
            { AttributeName: schema.sortKey, AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: schema.partitionKey, KeyType: 'HASH' },
            { AttributeName: schema.sortKey, KeyType: 'RANGE' },
          ],
        }),
      );
    } catch (error) {
      // A table kept in `path` from an earlier run, or created by an earlier swap.
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    } finally {
      client.destroy();
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Wraps dynalite's request handler: reads the request's table name beside
 * dynalite (both listen to the body) and the answer's error type as it is
 * written, and reports the failed conditions.
 */
function observeConditionalCheckFailures(server: Server, report: (tableName: string) => void): void {
  const handlers = server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    response.end = ((...args: unknown[]) => {
      const [chunk] = args;
      if (response.statusCode === 400 && (typeof chunk === 'string' || Buffer.isBuffer(chunk)) && String(chunk).includes('ConditionalCheckFailedException')) {
        const tableName = tableNameOf(Buffer.concat(chunks));
        if (tableName) report(tableName);
      }
      return end(...args);
    }) as typeof response.end;
    for (const handler of handlers) handler.call(server, request, response);
  });
}

function tableNameOf(body: Buffer): string | undefined {
  try {
    const { TableName } = JSON.parse(body.toString('utf8')) as { TableName?: unknown };
    return typeof TableName === 'string' ? TableName : undefined;
  } catch {
    return undefined;
  }
}
