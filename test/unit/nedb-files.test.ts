import { describe, expect, it } from "vitest";
import { parseNedbData } from "../../src/adapters/embedded/nedb-files.js";
import { AppError } from "../../src/domain/errors.js";

const lines = (...docs: readonly (object | string)[]) =>
  `${docs.map((d) => (typeof d === "string" ? d : JSON.stringify(d))).join("\n")}\n`;

describe("reading NeDB data files", () => {
  it("keeps each document's last line, drops deleted ones and index lines, and revives dates", () => {
    const text = lines(
      { $$indexCreated: { fieldName: "tenantId", unique: false, sparse: false } },
      { _id: "a", n: 1, at: { $$date: 1_700_000_000_000 } },
      { _id: "b", n: 1 },
      { _id: "a", n: 2, at: { $$date: 1_700_000_000_001 }, nested: { when: { $$date: 5 } } },
      { _id: "b", $$deleted: true },
      { $$indexRemoved: "tenantId" },
      { _id: "c", n: 3 },
    );
    expect(parseNedbData(text, "x.db")).toStrictEqual([
      { _id: "a", n: 2, at: new Date(1_700_000_000_001), nested: { when: new Date(5) } },
      { _id: "c", n: 3 },
    ]);
  });

  it("skips a line cut short by a crash, as NeDB did", () => {
    const docs = Array.from({ length: 10 }, (_, i) => ({ _id: `d${i}` }));
    const text = lines(...docs, '{"_id":"d10","half');
    expect(parseNedbData(text, "x.db")).toHaveLength(10);
  });

  it("refuses a file with more unreadable lines than NeDB tolerated, naming it", () => {
    const text = lines({ _id: "a" }, "garbage", "more garbage");
    expect(() => parseNedbData(text, "runs.db")).toThrow(AppError);
    expect(() => parseNedbData(text, "runs.db")).toThrow(/runs\.db/);
  });
});
