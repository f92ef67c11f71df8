import { createInProcessRunQueue } from "../../src/adapters/queue/in-process-queue.js";
import { runQueueContract } from "./run-queue.contract.js";

runQueueContract({
  name: "in process",
  create: async ({ concurrency }) => {
    const queue = createInProcessRunQueue({ concurrency });
    return { a: queue, b: queue, destroy: () => queue.close() };
  },
});
