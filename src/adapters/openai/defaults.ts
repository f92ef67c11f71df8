/** The OpenAI adapter's defaults: a module of their own, so configuration reads them without loading the SDK. */

/**
 * Deadline of one `complete()` call, from the moment it holds its concurrency slots until it has
 * the whole answer, across all attempts and backoff waits.
 * @default 60_000
 */
export const DEFAULT_LLM_TIMEOUT_MS = 60_000;
/**
 * Deadline of one HTTP attempt until the server starts answering: a streamed attempt until its
 * stream opens (response headers), a non-streamed one until its whole answer. A hung attempt is
 * abandoned and retried while the call's deadline allows; a third of the call's default deadline
 * leaves room for two more attempts.
 * @default 20_000
 */
export const DEFAULT_LLM_ATTEMPT_TIMEOUT_MS = 20_000;
/**
 * Requests in flight at once through one adapter instance (the process has one).
 * @default 16
 */
export const DEFAULT_MAX_CONCURRENCY = 16;
/**
 * Requests in flight at once for one tenant, so one tenant cannot take every slot.
 * @default 8
 */
export const DEFAULT_MAX_CONCURRENCY_PER_TENANT = 8;
