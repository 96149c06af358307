/**
 * Key layout shared by the stack (which creates the DynamoDB tables) and the handlers (which
 * use them). Both tables are on-demand, keyed by `pk` + `sk` strings, and expire items whose
 * `expiresAt` (epoch seconds) has passed.
 */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** DynamoDB TTL attribute: a Number of epoch seconds; items past it are deleted within days. */
  timeToLive: 'expiresAt',
} as const;
