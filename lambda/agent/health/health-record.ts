/**
 * One target's record in the shared health table, and its validation. A
 * record carries no user data: a target, a breaker state, times, a
 * first-token latency and a count of failed calls. Whatever fails to parse is ignored, never trusted.
 */
import * as z from 'zod/mini';

/** Records expire (TTL) this long after their last write: long past any use, short enough to keep the table small. */
export const HEALTH_RECORD_TTL_MS = 60 * 60_000;

export const healthRecordSchema = z.object({
  scope: z.string(),
  target: z.string().check(z.minLength(3)),
  /** The breaker state the writer reported; absent on a record that only carries a latency. */
  state: z.optional(z.enum(['open', 'closed'])),
  /** Epoch ms at which the writer's open breaker takes its next probe. */
  until: z.optional(z.number().check(z.int(), z.positive())),
  /** Epoch ms of the state's change. */
  at: z.optional(z.number().check(z.int(), z.positive())),
  /** The environment (or `probe`) that wrote the state, and takes the probes of an open breaker. */
  by: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  /** A recent time to first token, in ms, and when it was measured (epoch ms). */
  firstTokenMs: z.optional(z.number().check(z.gte(0), z.lte(3_600_000))),
  measuredAt: z.optional(z.number().check(z.int(), z.positive())),
  /** The region's failed calls in a row (no success reported between them), and when the last one was reported (epoch ms). */
  failures: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1_000_000))),
  failedAt: z.optional(z.number().check(z.int(), z.positive())),
  /** Epoch seconds after which the record is dead, whether or not DynamoDB has deleted it yet. */
  expiresAt: z.number().check(z.int(), z.positive()),
});
export type HealthRecord = z.output<typeof healthRecordSchema>;

/** The record, or undefined when it is not one (wrong types, an open state without `until`, …). */
export function parseHealthRecord(item: unknown): HealthRecord | undefined {
  const parsed = healthRecordSchema.safeParse(item);
  if (!parsed.success) return undefined;
  const record = parsed.data;
  if (record.state !== undefined && (record.at === undefined || record.by === undefined)) return undefined;
  if (record.state === 'open' && record.until === undefined) return undefined;
  if ((record.firstTokenMs === undefined) !== (record.measuredAt === undefined)) return undefined;
  if ((record.failures === undefined) !== (record.failedAt === undefined)) return undefined;
  return record;
}
