import { GraphQLError } from "graphql";
import { hashApiKey, isWellFormedApiKey } from "../domain/api-key.js";
import type { ApiKeyStore } from "../ports/api-keys.js";

/** The tenant requests act as under the development default (no keys, loopback) or with auth disabled. */
export const DEFAULT_TENANT = "default";

/** Who is calling. keyId is null for the development default. */
export interface Principal {
  readonly tenantId: string;
  readonly keyId: string | null;
}

export const UNAUTHENTICATED = "UNAUTHENTICATED";

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

export const createAuthenticator = (options: AuthenticatorOptions): Authenticator => {
  const byId = new Map<string, string>();
  return {
    async authenticate(authorization) {
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
    },
    async stillValid(principal) {
      if (principal.keyId === null) return options.anonymousAllowed();
      const hash = byId.get(principal.keyId);
      if (hash === undefined) return false;
      const record = await options.keys.findByHash(hash);
      return record !== null && record.revokedAt === null;
    },
  };
};
