import { GraphQLError } from "graphql";
import { hashApiKey, isWellFormedApiKey } from "../domain/api-key.js";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { ApiKeyStore } from "../ports/api-keys.js";

/** The tenant requests act as under the development default (no keys, loopback) or with auth disabled. */
export const DEFAULT_TENANT = "default";

/** Who is calling. keyId is null for the development default. */
export interface Principal {
  readonly tenantId: string;
  readonly keyId: string | null;
}

export const UNAUTHENTICATED = ErrorCode.Unauthenticated;

/** The error for a missing, malformed, unknown or revoked key: HTTP 401, code UNAUTHENTICATED. */
export const unauthenticated = (message: string) =>
  new GraphQLError(message, { extensions: { code: UNAUTHENTICATED, http: { status: 401 } } });

export interface AuthenticatorOptions {
  readonly keys: ApiKeyStore;
  /** True when requests without a key may act as the default tenant (loopback with no keys, or auth disabled). */
  readonly anonymousAllowed: () => Promise<boolean>;
}

export interface Authenticator {
  /** Resolves the caller from an `Authorization` value (HTTP header or connectionParams.authorization). */
  authenticate(authorization: unknown): Promise<Principal>;
  /** Whether the key a principal used is still valid (false once revoked). */
  stillValid(principal: Principal): Promise<boolean>;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * A key-store failure while authenticating: the caller is not at fault, so the answer is the
 * store's own code (e.g. STORE_UNAVAILABLE) with HTTP 503, not a masked 500.
 */
const storeFailure = (e: unknown): GraphQLError =>
  e instanceof GraphQLError
    ? e
    : e instanceof AppError
      ? new GraphQLError(e.message, { extensions: { code: e.code, http: { status: 503 } } })
      : new GraphQLError("Credentials could not be checked.", {
          extensions: { code: ErrorCode.StoreUnavailable, http: { status: 503 } },
        });

export const createAuthenticator = (options: AuthenticatorOptions): Authenticator => {
  const byId = new Map<string, string>();
  const guarded = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (e) {
      throw storeFailure(e);
    }
  };
  return {
    authenticate: (authorization) => guarded(() => authenticate(authorization)),
    stillValid: (principal) => guarded(() => stillValid(principal)),
  };

  async function authenticate(authorization: unknown): Promise<Principal> {
    if (authorization === undefined || authorization === null || authorization === "") {
      if (await options.anonymousAllowed()) return { tenantId: DEFAULT_TENANT, keyId: null };
      throw unauthenticated("An API key is required: send Authorization: Bearer <key>.");
    }
    const key = typeof authorization === "string" ? BEARER.exec(authorization.trim())?.[1] : undefined;
    if (key === undefined || !isWellFormedApiKey(key)) {
      throw unauthenticated("Malformed credentials: expected Authorization: Bearer vex_…");
    }
    const hash = hashApiKey(key);
    const record = await options.keys.findByHash(hash);
    if (record === null || record.revokedAt !== null) throw unauthenticated("Unknown or revoked API key.");
    byId.set(record.id, hash);
    return { tenantId: record.tenantId, keyId: record.id };
  }

  async function stillValid(principal: Principal): Promise<boolean> {
    if (principal.keyId === null) return options.anonymousAllowed();
    const hash = byId.get(principal.keyId);
    if (hash === undefined) return false;
    const record = await options.keys.findByHash(hash);
    return record !== null && record.revokedAt === null;
  }
};
