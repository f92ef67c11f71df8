/** Randomness, injected and seedable: the same seed gives the same sequence. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}
