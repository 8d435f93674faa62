/**
 * The record of agentctl's last drain or restore, kept as a tag on the
 * region's health check so that `status` can say who changed it and when
 * (Route 53 keeps no modification time for health checks; CloudTrail has the
 * authoritative caller identity).
 */
export const LAST_CHANGE_TAG = 'multi-region-agent:last-change';

export interface LastChange {
  readonly action: 'drained' | 'restored';
  /** The operator's login name on the machine that ran agentctl. */
  readonly by: string;
  readonly at: Date;
}

const LAST_CHANGE_PATTERN = /^(drained|restored) by (\S+) at (\S+)$/;

/** Characters outside Route 53's tag value alphabet (letters, digits, space, _ . : / = + - @) become '-'. */
function tagSafe(value: string): string {
  return value.replace(/[^\p{L}\p{N} _.:/=+\-@]/gu, '-') || 'unknown';
}

export function formatLastChange(change: LastChange): string {
  return `${change.action} by ${tagSafe(change.by).replace(/ /g, '-')} at ${change.at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

/** Reads the tag back; values agentctl did not write are ignored. */
export function parseLastChange(value: string | undefined): LastChange | undefined {
  const match = value === undefined ? null : LAST_CHANGE_PATTERN.exec(value);
  if (!match) return undefined;
  const at = new Date(match[3]);
  if (Number.isNaN(at.getTime())) return undefined;
  return { action: match[1] as LastChange['action'], by: match[2], at };
}
