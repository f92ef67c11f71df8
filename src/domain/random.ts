import type { Rng } from "./rng.js";

/**
 * A small, fast, seedable PRNG (sfc32, seeded through splitmix32) for evolution and tests.
 * Not for secrets. The same seed always yields the same sequence, on every platform.
 */
export const createSeededRng = (seed: number): Rng => {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return {
    next() {
      const t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) >>> 0;
      return t / 4294967296;
    },
  };
};

/** Uniform integer in [0, n). */
export const nextInt = (rng: Rng, n: number): number => Math.floor(rng.next() * n);

/** Uniform float in [lo, hi). */
export const nextRange = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();
