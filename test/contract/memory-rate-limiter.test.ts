import { createFlexibleRateLimiter } from "../../src/adapters/rate-limit/flexible-rate-limiter.js";
import { createMemoryRunSlots } from "../../src/adapters/rate-limit/memory-run-slots.js";
import { admissionLimitsContract } from "./rate-limiter.contract.js";

admissionLimitsContract({
  name: "in memory (one process)",
  create: async (settings) => {
    const limiter = createFlexibleRateLimiter(settings);
    const slots = createMemoryRunSlots();
    return { limiters: [limiter, limiter], slots: [slots, slots], destroy: async () => {} };
  },
});
