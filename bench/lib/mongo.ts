import type { TestMongo } from "../../test/support/mongo.js";

/**
 * The MongoDB a benchmark ran on, in its reports: FerretDB on the backend the test setup chose
 * (VEX_TEST_FERRETDB_BACKEND: SQLite by default, or PostgreSQL), or the server at MONGODB_URI.
 */
export const mongoLabel = (source: TestMongo["source"]): string =>
  source === "ferretdb"
    ? "FerretDB/SQLite"
    : source === "ferretdb-postgresql"
      ? "FerretDB/PostgreSQL"
      : "the server at MONGODB_URI";
