import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("provenance configuration", () => {
  it("defaults to the file anchor inside the data dir and a generated key", () => {
    expect(loadConfig({ VEX_DATA_DIR: "/var/vex" }).provenance).toStrictEqual({
      origin: "vex.localhost/ledger",
      signingKey: undefined,
      anchors: ["file"],
      anchorFile: join("/var/vex", "anchors.jsonl"),
    });
  });

  it("reads the origin, the key, the anchors and the anchor file", () => {
    const seed = Buffer.alloc(32, 1).toString("base64");
    const c = loadConfig({
      MONGODB_URI: "mongodb://db:27017/vex",
      VEX_LEDGER_ORIGIN: "vex.example.org/runs",
      VEX_LEDGER_SIGNING_KEY: seed,
      VEX_ANCHORS: "mongo, file,mongo",
      VEX_ANCHOR_FILE: "/anchors/vex.jsonl",
    });
    expect(c.provenance).toStrictEqual({
      origin: "vex.example.org/runs",
      signingKey: seed,
      anchors: ["mongo", "file"],
      anchorFile: "/anchors/vex.jsonl",
    });
    expect(loadConfig({ VEX_ANCHORS: "none" }).provenance.anchors).toStrictEqual([]);
  });

  it("names each invalid variable", () => {
    const attempt = (env: Record<string, string>) => () => loadConfig(env);
    expect(attempt({ VEX_LEDGER_SIGNING_KEY: Buffer.alloc(16).toString("base64") })).toThrow(
      /VEX_LEDGER_SIGNING_KEY: must be the base64 of a 32-byte Ed25519 seed/,
    );
    expect(attempt({ VEX_LEDGER_ORIGIN: "has space" })).toThrow(/VEX_LEDGER_ORIGIN/);
    expect(attempt({ VEX_LEDGER_ORIGIN: "a+b" })).toThrow(/VEX_LEDGER_ORIGIN/);
    expect(attempt({ VEX_ANCHORS: "file,ipfs" })).toThrow(/VEX_ANCHORS/);
    expect(attempt({ VEX_ANCHORS: "mongo" })).toThrow(ConfigError);
    expect(attempt({ VEX_ANCHORS: "mongo" })).toThrow(/VEX_ANCHORS: the mongo anchor needs MONGODB_URI/);
  });
});
