/**
 * DynamoDB's documented item limits, checked on the wire (an item in
 * attribute-value JSON, as a PutItem request carries it). The embedded
 * DynamoDB does not enforce all of them: the real one refuses an item over
 * 400 KB (names and values in UTF-8) or nested deeper than 32 levels.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
type AttributeValue = Record<string, unknown>;

export const DYNAMO_ITEM_LIMIT_BYTES = 400 * 1024;
export const DYNAMO_MAX_DEPTH = 32;

/** The item's size by the documented rules: names and strings in UTF-8, a number by its digits, 3 bytes per list or map and 1 per element. */
export function wireItemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

/** How deeply lists and maps nest (a top-level scalar attribute: 0). */
export function wireItemDepth(item: Record<string, AttributeValue>): number {
  return Math.max(0, ...Object.values(item).map(depthOf));
}

function valueBytes(value: AttributeValue): number {
  if (typeof value.S === 'string') return Buffer.byteLength(value.S);
  if (typeof value.N === 'string') return Math.ceil(value.N.replace(/[^0-9]/g, '').length / 2) + 1;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (Array.isArray(value.L)) return 3 + (value.L as AttributeValue[]).reduce((sum, element) => sum + 1 + valueBytes(element), 0);
  if (value.M)
    return (
      3 + Object.entries(value.M as Record<string, AttributeValue>).reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + valueBytes(element), 0)
    );
  throw new Error(`an attribute type this check does not measure: ${Object.keys(value).join()}`);
}

function depthOf(value: AttributeValue): number {
  if (Array.isArray(value.L)) return 1 + Math.max(0, ...(value.L as AttributeValue[]).map(depthOf));
  if (value.M) return 1 + Math.max(0, ...Object.values(value.M as Record<string, AttributeValue>).map(depthOf));
  return 0;
}
