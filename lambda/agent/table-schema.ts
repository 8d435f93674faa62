/**
 * Key and attribute names of the conversation table. Plain data shared by
 * lib/conversation-table.ts (which creates the table) and the runtime's
 * conversation store (which reads and writes it), so the two cannot drift.
 */
export const TableSchema = {
  /** Partition key (string): one conversation's items share it. */
  partitionKey: 'pk',
  /** Sort key (string): the conversation's metadata item and its turns, in order. */
  sortKey: 'sk',
  /** Number attribute, epoch seconds, read by DynamoDB's time-to-live. */
  ttlAttribute: 'expiresAt',
} as const;
