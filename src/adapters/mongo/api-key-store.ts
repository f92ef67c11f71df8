import type { Db } from "mongodb";
import type { ApiKeyRecord } from "../../domain/api-key.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { ApiKeyStore } from "../../ports/api-keys.js";
import { guard, toAppError } from "./errors.js";
import type { MongoStoreOptions } from "./mongo-store.js";

/** Collection of API keys (hashes only). */
export const API_KEYS_COLLECTION = "api_keys";

type ApiKeyDoc = Omit<ApiKeyRecord, "id"> & { _id: string };

const fromDoc = ({ _id, ...rest }: ApiKeyDoc): ApiKeyRecord => ({ ...rest, id: _id });

/** Creates the unique hash index (lookups by hash) and the tenant index (listings). */
export const ensureApiKeyIndexes = async (db: Db): Promise<void> => {
  const keys = db.collection<ApiKeyDoc>(API_KEYS_COLLECTION);
  // One index per command: FerretDB v1 fails when one createIndexes lists several existing indexes.
  await keys.createIndex({ hash: 1 }, { unique: true, name: "hash_unique" });
  await keys.createIndex({ tenantId: 1, createdAt: -1 }, { name: "tenant_created" });
};

/**
 * API keys in MongoDB, shared by every server instance and the `vex keys` CLI. Takes the options every
 * MongoDB store takes; `close()` closes the client only when it owns it.
 */
export const createMongoApiKeyStore = (options: MongoStoreOptions): ApiKeyStore => {
  const { client, dbName, ownsClient = false } = options;
  const keys = client.db(dbName).collection<ApiKeyDoc>(API_KEYS_COLLECTION);
  return {
    create: (record) =>
      guard(async () => {
        const { id, ...rest } = record;
        try {
          await keys.insertOne({ ...rest, _id: id });
        } catch (e) {
          const err = toAppError(e);
          throw err.code === ErrorCode.Conflict
            ? new AppError(ErrorCode.Conflict, "The API key already exists.")
            : err;
        }
      }),
    findByHash: (hash) =>
      guard(async () => {
        const doc = await keys.findOne({ hash });
        return doc ? fromDoc(doc) : null;
      }),
    revoke: (id, at) =>
      guard(async () => {
        await keys.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } });
        const doc = await keys.findOne({ _id: id });
        return doc ? fromDoc(doc) : null;
      }),
    list: (tenantId) =>
      guard(async () => {
        const docs = await keys
          .find(tenantId === undefined ? {} : { tenantId })
          .sort({ createdAt: -1 })
          .toArray();
        return docs.map(fromDoc);
      }),
    hasActiveKeys: () =>
      guard(async () => (await keys.findOne({ revokedAt: null }, { projection: { _id: 1 } })) !== null),
    close: async () => {
      if (ownsClient) await client.close();
    },
  };
};
