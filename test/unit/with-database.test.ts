import { describe, expect, it } from "vitest";
import { withDatabase } from "../support/backends.js";

describe("withDatabase (the test servers' MONGODB_URI)", () => {
  it.each([
    ["mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/db1"],
    ["mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/db1"],
    [
      "mongodb://u:p@h1:1,h2:2/old?replicaSet=rs0&tls=true",
      "mongodb://u:p@h1:1,h2:2/db1?replicaSet=rs0&tls=true",
    ],
    [
      "mongodb+srv://u:p@cluster.example/?retryWrites=true",
      "mongodb+srv://u:p@cluster.example/db1?retryWrites=true",
    ],
  ])("%s → %s: the database replaced, hosts and query parameters kept", (uri, expected) => {
    expect(withDatabase(uri, "db1")).toBe(expected);
  });
});
