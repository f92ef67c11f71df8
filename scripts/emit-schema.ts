import { writeFile } from "node:fs/promises";
import { printVexSchema } from "../src/server/print-schema.js";

const target = process.argv[2] ?? "schema.graphql";
await writeFile(target, await printVexSchema());
process.stdout.write(`wrote ${target}\n`);
