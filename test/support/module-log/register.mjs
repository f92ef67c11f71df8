// Loaded with `node --import` (through NODE_OPTIONS): records every module the process resolves,
// one URL a line, in the file VEX_TEST_MODULE_LOG names. Node's public module hooks only.
import { register } from "node:module";

register("./hooks.mjs", import.meta.url, { data: { file: process.env.VEX_TEST_MODULE_LOG } });
