import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApiKeyRecord } from "../../src/domain/api-key.js";
import type { ApiKeyStore } from "../../src/ports/api-keys.js";

const aKey = (overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: `key_${Math.random().toString(36).slice(2, 10)}`,
  tenantId: "acme",
  hash: Math.random().toString(16).slice(2).padEnd(64, "0"),
  label: null,
  createdAt: new Date(Date.UTC(2026, 0, 1)),
  revokedAt: null,
  ...overrides,
});

/** How a contract run gets a fresh, empty key store for each test and disposes of it. */
export interface ApiKeyStoreContractInit {
  readonly name: string;
  /** A new, empty store; called before every test. */
  create(): Promise<ApiKeyStore>;
  /** Disposes of a store made by `create`. @default store.close() */
  destroy?(store: ApiKeyStore): Promise<void>;
}

/** Behaviour every ApiKeyStore adapter must have. */
export const apiKeyStoreContract = (init: ApiKeyStoreContractInit) =>
  describe(`ApiKeyStore contract: ${init.name}`, () => {
    let store: ApiKeyStore;
    beforeEach(async () => {
      store = await init.create();
    });
    afterEach(async () => {
      await (init.destroy ? init.destroy(store) : store.close());
    });

    it("finds a key by hash with every field intact", async () => {
      const key = aKey({ label: "ci" });
      await store.create(key);
      expect(await store.findByHash(key.hash)).toEqual(key);
      expect(await store.findByHash("0".repeat(64))).toBeNull();
    });

    it("rejects a second key with the same hash", async () => {
      const key = aKey();
      await store.create(key);
      await expect(store.create({ ...key, id: "key_other" })).rejects.toMatchObject({ code: "CONFLICT" });
    });

    it("revokes once, keeps the first revocation time, and reports active keys", async () => {
      const key = aKey();
      await store.create(key);
      expect(await store.hasActiveKeys()).toBe(true);
      const first = new Date(Date.UTC(2026, 1, 1));
      expect((await store.revoke(key.id, first))?.revokedAt).toEqual(first);
      expect((await store.revoke(key.id, new Date(Date.UTC(2026, 2, 1))))?.revokedAt).toEqual(first);
      expect((await store.findByHash(key.hash))?.revokedAt).toEqual(first);
      expect(await store.hasActiveKeys()).toBe(false);
      expect(await store.revoke("key_missing", first)).toBeNull();
    });

    it("lists by tenant", async () => {
      await store.create(aKey({ tenantId: "acme" }));
      await store.create(aKey({ tenantId: "globex" }));
      expect((await store.list("acme")).map((k) => k.tenantId)).toEqual(["acme"]);
      expect(await store.list()).toHaveLength(2);
    });
  });
