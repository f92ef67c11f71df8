import { lexicographicSortSchema, printSchema } from "graphql";
import { buildVexSchema } from "./schema.js";

export const SCHEMA_HEADER = "# Generated from the code-first schema by `npm run schema`. Do not edit.\n\n";

/** The committed schema.graphql text: sorted SDL with a header. */
export const printVexSchema = async (): Promise<string> =>
  `${SCHEMA_HEADER}${printSchema(lexicographicSortSchema(await buildVexSchema()))}\n`;
