/**
 * Key and attribute names of the target-health table. Plain data shared by
 * lib/health/target-health-table.ts (which creates the table) and the runtime
 * (which reads and writes it), so the two cannot drift.
 */
export const HealthTableSchema = {
  /** Partition key (string): the region whose environments share the records. */
  partitionKey: 'scope',
  /** Sort key (string): the target, `<modelId>@<region>`. */
  sortKey: 'target',
  /** Number attribute, epoch seconds, read by DynamoDB's time-to-live. */
  ttlAttribute: 'expiresAt',
} as const;
