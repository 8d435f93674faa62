/**
 * An embedded DynamoDB for tests and the local playground: dynalite (an
 * in-memory implementation of the DynamoDB API, maintained and used by the
 * AWS community for exactly this) started in-process on loopback, with the
 * conversation table created from the same key names the constructs use.
 * dynalite does not implement UpdateTimeToLive, so expiry is not emulated;
 * the runtime still writes the TTL attribute on every item.
 */
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TableSchema } from '../lambda/agent/table-schema';
import { listen } from './listen';

// dynalite ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => Server = require('dynalite');

/** Static credentials for clients of local emulators; nothing checks them. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export class LocalDynamoDb {
  static async start(options: { port?: number; host?: string } = {}): Promise<LocalDynamoDb> {
    const server = dynalite({ createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
    return new LocalDynamoDb(server, await listen(server, options.port ?? 0, options.host ?? '127.0.0.1'));
  }

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  /** Creates a table with the conversation table's key schema (on-demand, like the deployed one). */
  async createConversationTable(name: string): Promise<void> {
    const client = new DynamoDBClient({ region: 'local', endpoint: this.endpoint, credentials: LOCAL_CREDENTIALS });
    try {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: TableSchema.partitionKey, AttributeType: 'S' },
            { AttributeName: TableSchema.sortKey, AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: TableSchema.partitionKey, KeyType: 'HASH' },
            { AttributeName: TableSchema.sortKey, KeyType: 'RANGE' },
          ],
        }),
      );
    } finally {
      client.destroy();
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
