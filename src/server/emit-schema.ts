import { writeFile } from "node:fs/promises";
import { printVexSchema } from "./print-schema.js";

/** `npm run schema`: writes the SDL of the code-first schema to schema.graphql (or the path given). */
const target = process.argv[2] ?? "schema.graphql";
await writeFile(target, await printVexSchema());
process.stdout.write(`wrote ${target}\n`);
