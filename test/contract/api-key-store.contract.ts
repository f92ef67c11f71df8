import { describe, expect, it } from "vitest";
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

/** Behaviour every ApiKeyStore adapter must have. */
export const apiKeyStoreContract = (init: { name: string; create(): Promise<ApiKeyStore> }) =>
  describe(`ApiKeyStore contract: ${init.name}`, () => {
    it("finds a key by hash with every field intact", async () => {
      const store = await init.create();
      const key = aKey({ label: "ci" });
      await store.create(key);
      expect(await store.findByHash(key.hash)).toEqual(key);
      expect(await store.findByHash("0".repeat(64))).toBeNull();
    });

    it("rejects a second key with the same hash", async () => {
      const store = await init.create();
      const key = aKey();
      await store.create(key);
      await expect(store.create({ ...key, id: "key_other" })).rejects.toMatchObject({ code: "CONFLICT" });
    });

    it("revokes once, keeps the first revocation time, and reports active keys", async () => {
      const store = await init.create();
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
      const store = await init.create();
      await store.create(aKey({ tenantId: "acme" }));
      await store.create(aKey({ tenantId: "globex" }));
      expect((await store.list("acme")).map((k) => k.tenantId)).toEqual(["acme"]);
      expect(await store.list()).toHaveLength(2);
    });
  });
