import { statSync } from "node:fs";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ApiKeyRecord } from "../../domain/api-key.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { ApiKeyStore } from "../../ports/api-keys.js";

interface KeyFileEntry extends Omit<ApiKeyRecord, "createdAt" | "revokedAt"> {
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

const toRecord = (e: KeyFileEntry): ApiKeyRecord => ({
  ...e,
  createdAt: new Date(e.createdAt),
  revokedAt: e.revokedAt === null ? null : new Date(e.revokedAt),
});
const toEntry = (r: ApiKeyRecord): KeyFileEntry => ({
  ...r,
  createdAt: r.createdAt.toISOString(),
  revokedAt: r.revokedAt?.toISOString() ?? null,
});

/** The entries of the key file's text; a file that is not a JSON array of keys is STORE_UNAVAILABLE naming it. */
const parseKeyFile = (text: string, path: string): KeyFileEntry[] => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw corruptKeyFile(path, e);
  }
  if (
    !Array.isArray(value) ||
    value.some((e) => typeof e !== "object" || e === null || typeof e.hash !== "string")
  ) {
    throw corruptKeyFile(path);
  }
  return value as KeyFileEntry[];
};

const corruptKeyFile = (path: string, cause?: unknown) =>
  new AppError(
    ErrorCode.StoreUnavailable,
    `The API key file ${path} is not a JSON array of keys; restore it or recreate the keys with \`vex keys\`.`,
    { cause },
  );

/**
 * API keys of the embedded deployment, in one JSON file that the server and the `vex keys` CLI
 * share. Writes replace the file atomically (temp file + rename); reads reload it whenever its
 * inode, modification time or size changed, so a key created or revoked by the CLI takes effect on the
 * server's next request. Lookups are by hash in a Map.
 */
export const createApiKeyFileStore = async (path: string): Promise<ApiKeyStore> => {
  await mkdir(dirname(path), { recursive: true });
  let byHash = new Map<string, ApiKeyRecord>();
  let version = "";

  const load = async (): Promise<void> => {
    let s: ReturnType<typeof statSync>;
    try {
      // Synchronous: one local stat per request costs ~5 µs of CPU this way, ~40 µs through the
      // thread pool (bench/PROFILING.md, read path); the embedded store beside it reads synchronously too.
      s = statSync(path, { throwIfNoEntry: false });
    } catch (e) {
      throw new AppError(ErrorCode.StoreUnavailable, `Cannot read the API key file ${path}.`, { cause: e });
    }
    if (s === undefined) {
      byHash = new Map();
      version = "";
      return;
    }
    const current = `${s.ino}:${s.mtimeMs}:${s.size}`;
    if (current === version) return;
    const entries = parseKeyFile(await readFile(path, "utf8"), path);
    byHash = new Map(entries.map((e) => [e.hash, toRecord(e)]));
    version = current;
  };

  const save = async (records: ApiKeyRecord[]): Promise<void> => {
    const tmp = join(dirname(path), `.api-keys.${process.pid}.${Date.now()}.tmp`);
    const handle = await open(tmp, "w", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(records.map(toEntry), null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    version = "";
    await load();
  };

  return {
    async create(record) {
      await load();
      if (byHash.has(record.hash))
        throw new AppError(ErrorCode.Conflict, "An API key with this hash already exists.");
      await save([...byHash.values(), record]);
    },
    async findByHash(hash) {
      await load();
      return byHash.get(hash) ?? null;
    },
    async revoke(id, at) {
      await load();
      const found = [...byHash.values()].find((r) => r.id === id);
      if (!found) return null;
      if (found.revokedAt !== null) return found;
      const revoked = { ...found, revokedAt: at };
      await save([...byHash.values()].map((r) => (r.id === id ? revoked : r)));
      return revoked;
    },
    async list(tenantId) {
      await load();
      return [...byHash.values()].filter((r) => tenantId === undefined || r.tenantId === tenantId);
    },
    async hasActiveKeys() {
      await load();
      return [...byHash.values()].some((r) => r.revokedAt === null);
    },
    close: async () => {},
  };
};
