import { randomBytes, randomUUID } from "node:crypto";
import {
  API_KEY_RANDOM_BYTES,
  formatApiKey,
  hashApiKey,
  isValidTenantId,
  TENANT_ID_PATTERN,
} from "../domain/api-key.js";
import type { ApiKeyStore } from "../ports/api-keys.js";

/** Output and failure channel of a CLI command, so commands are testable without a process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** `vex keys create --tenant <id> [--label <text>]`: prints the new key once; only its hash is stored. */
export const createKey = async (keys: ApiKeyStore, io: CliIo, tenantId: string, label: string | null) => {
  if (!isValidTenantId(tenantId))
    throw new UsageError(`--tenant must match ${TENANT_ID_PATTERN}; got "${tenantId}".`);
  const key = formatApiKey(randomBytes(API_KEY_RANDOM_BYTES));
  const id = `key_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await keys.create({ id, tenantId, hash: hashApiKey(key), label, createdAt: new Date(), revokedAt: null });
  io.out(`Created API key ${id} for tenant ${tenantId}. It is shown only now:`);
  io.out(key);
};

/** `vex keys revoke <keyId>`: the key stops working for new operations and its sockets close. */
export const revokeKey = async (keys: ApiKeyStore, io: CliIo, id: string) => {
  const revoked = await keys.revoke(id, new Date());
  if (revoked === null) throw new UsageError(`No API key with id ${id}.`);
  io.out(`Revoked ${id} (tenant ${revoked.tenantId}) at ${revoked.revokedAt?.toISOString()}.`);
};

/** `vex keys list [--tenant <id>]`: ids, tenants, labels and states; never the keys. */
export const listKeys = async (keys: ApiKeyStore, io: CliIo, tenantId: string | undefined) => {
  const records = await keys.list(tenantId);
  if (records.length === 0) io.out("No API keys.");
  for (const r of records) {
    const state = r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : "active";
    io.out(
      `${r.id}\t${r.tenantId}\t${state}\tcreated ${r.createdAt.toISOString()}${r.label ? `\t${r.label}` : ""}`,
    );
  }
};
