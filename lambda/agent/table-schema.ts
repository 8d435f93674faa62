/**
 * Key and attribute names of the conversation table. Plain data shared by
 * lib/state/conversation-table.ts (which creates the table), local/dynamodb.ts
 * (which creates the embedded one) and the runtime's conversation store
 * (which reads and writes it), so the three cannot drift.
 */
export const TableSchema = {
  /** Partition key (string): one conversation's items share it. */
  partitionKey: 'pk',
  /** Sort key (string): the conversation's metadata item and its turns, in order. */
  sortKey: 'sk',
  /** Number attribute, epoch seconds, read by DynamoDB's time-to-live. */
  ttlAttribute: 'expiresAt',
  /** How long a deleted conversation's tombstone outlives the deletion: far longer than any request that claimed before it can run. */
  tombstoneSeconds: 86_400,
  /**
   * The global secondary index that lists an owner's conversations, newest
   * activity first. Only conversation items carry `owner` and `updatedAt`
   * (turns do not), so the index holds one entry per conversation; it is
   * part of the global table and replicates with it, to the jurisdiction's
   * regions only. It projects what a listing shows and what tells a live
   * conversation from a deleted or expired one.
   */
  ownerIndex: {
    name: 'by-owner',
    /** String: the owner (a caller, or a caller and an end user). */
    partitionKey: 'owner',
    /** String, ISO-8601: the last message's arrival. */
    sortKey: 'updatedAt',
    projected: ['title', 'exchanges', 'createdAt', 'jurisdiction', 'deletedAt', 'expiresAt'],
  },
} as const;
