/**
 * Worker thread of the read-path benchmark: its two references, on an isolate of their own so that they
 * share no compiled code or type feedback with the server under test. The baseline: graphql-js
 * `execute` of the Agents document on the product's schema with a stub store answering a fixed page,
 * one execution at a time for a window asked for by message. The floor: a bare node:http server that
 * reads the body, runs the same execution and writes the JSON. Posts the bare server's URL once it
 * listens, then a `ReferenceWindow` for each window asked for; closes on `{ type: "close" }`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { execute } from "graphql";
import { AgentsDocument } from "../../client/generated/graphql.js";
import type { Agent } from "../../src/domain/run.js";
import type { Page, Store } from "../../src/ports/stores.js";
import type { GraphQLContext } from "../../src/resolvers/context.type.js";
import { buildVexSchema } from "../../src/server/schema.js";
import { closedLoop } from "./stats.js";

export interface ReferenceData {
  readonly tenantId: string;
  /** The page the stub store answers (a structured clone of the server's). */
  readonly page: Page<Agent>;
}

export type ReferenceMessage =
  | {
      readonly type: "execute";
      readonly warmupMs: number;
      readonly durationMs: number;
      readonly maxCount: number;
    }
  | { readonly type: "close" };

export interface ReferenceWindow {
  readonly durations: number[];
  readonly elapsedMs: number;
}

const { tenantId, page } = workerData as ReferenceData;
const schema = await buildVexSchema();
const stubStore = { agents: { list: async () => page } } as unknown as Store;
const contextValue = { tenantId, store: stubStore, baseMaxTokens: 512 } as unknown as GraphQLContext;
const run = async (variableValues: Record<string, unknown>) => {
  const result = await execute({ schema, document: AgentsDocument, variableValues, contextValue });
  if (result.errors) throw new Error(`execute failed: ${JSON.stringify(result.errors)}`);
  return result;
};

const bare = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const { variables } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      variables: Record<string, unknown>;
    };
    const result = await run(variables);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
  });
});
await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));

const port = parentPort;
if (port === null) throw new Error("read-path-reference runs as a worker thread");
port.on("message", async (m: ReferenceMessage) => {
  if (m.type === "close") {
    bare.close(() => port.close());
    return;
  }
  const once = () => run({ first: page.items.length });
  await closedLoop({ concurrency: 1, maxCount: m.maxCount, maxMs: m.warmupMs }, once);
  const window = await closedLoop({ concurrency: 1, maxCount: m.maxCount, maxMs: m.durationMs }, once);
  port.postMessage(window satisfies ReferenceWindow);
});
port.postMessage({ url: `http://127.0.0.1:${(bare.address() as AddressInfo).port}/graphql` });
