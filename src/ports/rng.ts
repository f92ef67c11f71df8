export type { Rng } from "../domain/rng.js";
