import { sha256Hex } from "./canonical.js";

/** Every key starts with this, so leaked keys are easy to recognise and scan for. */
export const API_KEY_PREFIX = "vex_";
/** Random bytes in a key: 256 bits, so a plain SHA-256 of the key is a safe stored form. */
export const API_KEY_RANDOM_BYTES = 32;

const KEY_PATTERN = /^vex_[A-Za-z0-9_-]{43}$/;

/** A key as stored: never the key itself, only its hash. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  /** SHA-256 (hex) of the full key string; the lookup index. */
  readonly hash: string;
  readonly label: string | null;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** Formats random bytes as a key: `vex_` + base64url. */
export const formatApiKey = (random: Uint8Array): string =>
  `${API_KEY_PREFIX}${Buffer.from(random).toString("base64url")}`;

export const isWellFormedApiKey = (key: string): boolean => KEY_PATTERN.test(key);

export const hashApiKey = (key: string): string => sha256Hex(key);

/** Tenant ids are path-safe slugs: they appear in logs, key listings and checkpoint origins. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const isValidTenantId = (id: string): boolean => TENANT_ID_PATTERN.test(id);
