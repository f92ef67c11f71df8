import type { ApiKeyRecord } from "../domain/api-key.js";

/**
 * Stored API keys. Lookups are by hash (indexed); a revoked key is returned with revokedAt set
 * so callers can tell "revoked" from "unknown".
 */
export interface ApiKeyStore {
  create(record: ApiKeyRecord): Promise<void>;
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
  /** Marks a key revoked; returns it, or null when no key has this id. Revoking twice keeps the first time. */
  revoke(id: string, at: Date): Promise<ApiKeyRecord | null>;
  list(tenantId?: string): Promise<ApiKeyRecord[]>;
  /** Whether any unrevoked key exists (decides if the development default applies). */
  hasActiveKeys(): Promise<boolean>;
  close(): Promise<void>;
}
