import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Datastore, openNedbFiles } from "../../src/adapters/embedded/nedb.js";
import { descriptorsInto } from "../support/descriptors.js";

interface Doc {
  _id: string;
  n: number;
  at: Date;
  note?: string;
}

const dirs: string[] = [];
const freshDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "vex-append-"));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const AT = new Date(Date.UTC(2026, 0, 1));

/** The same writes, with a compaction in the middle. */
const writeAll = async (ds: Datastore<Doc>) => {
  for (let i = 0; i < 20; i++) await ds.insertAsync({ _id: `d${i}`, n: i, at: AT });
  await ds.updateAsync({ _id: "d3" }, { $set: { note: "updated" } }, {});
  await ds.compactDatafileAsync();
  for (let i = 20; i < 30; i++) await ds.insertAsync({ _id: `d${i}`, n: i, at: AT });
  await ds.removeAsync({ _id: "d5" }, {});
  await ds.updateAsync({ _id: "d25" }, { $set: { note: "after compaction" } }, {});
};

describe("embedded data files append through one open handle", () => {
  it("writes the same bytes as NeDB's own appends, across a compaction", async () => {
    const dir = await freshDir();
    const files = await openNedbFiles({ dataDir: dir, compactionIntervalMs: 3_600_000 });
    await writeAll(await files.open<Doc>("ours"));

    const plain = new Datastore<Doc>({ filename: join(dir, "plain.db") });
    await plain.loadDatabaseAsync();
    await writeAll(plain);

    expect(await readFile(join(dir, "ours.db"), "utf8")).toBe(await readFile(join(dir, "plain.db"), "utf8"));
    await files.close();
  });

  it("keeps every write, including those after a compaction, when the files are opened again", async () => {
    const dir = await freshDir();
    const first = await openNedbFiles({ dataDir: dir, compactionIntervalMs: 3_600_000 });
    await writeAll(await first.open<Doc>("docs"));
    await first.close();

    const again = await openNedbFiles({ dataDir: dir, compactionIntervalMs: 3_600_000 });
    const ds = await again.open<Doc>("docs");
    const docs = (await ds.findAsync({}).sort({ n: 1 }).execAsync()) as unknown as Doc[];
    expect(docs.map((d) => d.n)).toEqual([...Array(30).keys()].filter((n) => n !== 5));
    expect(docs.find((d) => d._id === "d3")?.note).toBe("updated");
    expect(docs.find((d) => d._id === "d25")?.note).toBe("after compaction");
    expect(docs[0]?.at).toEqual(AT);
    await again.close();
  });

  it("leaves no descriptor open on the data files after close", async () => {
    const dir = await freshDir();
    const files = await openNedbFiles({ dataDir: dir, compactionIntervalMs: 3_600_000 });
    const ds = await files.open<Doc>("docs");
    await ds.insertAsync({ _id: "a", n: 1, at: AT });
    if (existsSync("/proc/self/fd")) expect(await descriptorsInto(dir)).toHaveLength(1);
    await files.close();
    expect(await descriptorsInto(dir)).toEqual([]);
  });
});
