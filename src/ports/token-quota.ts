/** The answer to a reservation: whether it was granted, and the counter before it. */
export interface QuotaReservation {
  readonly granted: boolean;
  /** Tokens counted for the tenant's day before this reservation (used plus reserved in flight). */
  readonly counted: number;
}

/**
 * A tenant's tokens per UTC day (docs/reviews-and-budgets.md), counted across every instance that shares it. The
 * counter holds the tokens of completed calls plus the reservations of calls in flight; a call
 * reserves its token limit first and then replaces the reservation by what it really used.
 */
export interface TokenQuota {
  /**
   * Adds `tokens` to the tenant's counter for `day` (YYYY-MM-DD, UTC) unless that would take it
   * above `limit`; atomic, so two instances reserving at once never exceed the limit together.
   */
  reserve(tenantId: string, day: string, tokens: number, limit: number): Promise<QuotaReservation>;
  /** Adds `delta` (negative to give back an unused reservation) to the tenant's counter for `day`. */
  adjust(tenantId: string, day: string, delta: number): Promise<void>;
  /** The tenant's counter for `day`; 0 when nothing was counted. */
  counted(tenantId: string, day: string): Promise<number>;
}
