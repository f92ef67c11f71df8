import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TRAITS, toLlmParams } from "../../src/domain/genome.js";
import { efficacyAffinity } from "../fakes/efficacy-llm.js";
import { EFFICACY_RUNS, type EfficacyCurve, runEfficacyScenario } from "../support/efficacy.js";

/**
 * Issue 5 item 7: against a fake whose shadow agreement and confidence peak at temperature ≈ 0.45 and
 * top_p ≈ 0.9, with a fixed seed, 50 runs per mode in separate tenants. `bench/evolution-efficacy.ts`
 * prints the same curves; the README's table (seed 2026) shows them rounded to three decimals, and
 * the scenario is deterministic, so the table's numbers are asserted to that precision.
 */
describe("evolution efficacy (deterministic)", () => {
  const founderAffinity = efficacyAffinity(toLlmParams(DEFAULT_TRAITS, 400));
  let curves: EfficacyCurve[] = [];
  const curve = (mode: string) => curves.find((c) => c.mode === mode) as EfficacyCurve;
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  /** Three decimals, as the README prints them: |actual − table| < 0.0005. */
  const DECIMALS = 3;

  // One scenario for every test (each test reads it, none fills it): 150 runs take most of a minute.
  beforeAll(async () => {
    curves = await runEfficacyScenario(["OFF", "GENETIC", "SELF_CORRECTING"]);
  }, 120_000);

  it("runs 50 runs per mode", () => {
    expect(curves.map((c) => c.mode)).toEqual(["OFF", "GENETIC", "SELF_CORRECTING"]);
    for (const c of curves) expect(c.fitness).toHaveLength(EFFICACY_RUNS);
  });

  it.each([
    ["OFF", 0.419, 0.366, 0.219],
    ["GENETIC", 0.609, 0.619, 0.551],
    ["SELF_CORRECTING", 0.683, 0.697, 0.651],
  ])(
    "%s: mean fitness %d over all runs, %d over the last 10, final closeness %d (the README's table)",
    (mode, all, last10, closeness) => {
      const c = curve(mode);
      expect(mean(c.fitness)).toBeCloseTo(all, DECIMALS);
      expect(c.tailMean).toBeCloseTo(last10, DECIMALS);
      expect(c.finalAffinity).toBeCloseTo(closeness, DECIMALS);
    },
  );

  it("GENETIC and SELF_CORRECTING each end with a higher mean fitness over the last 10 runs than OFF", () => {
    const off = curve("OFF").tailMean;
    expect(curve("GENETIC").tailMean).toBeGreaterThan(off);
    expect(curve("SELF_CORRECTING").tailMean).toBeGreaterThan(off);
  });

  it("moves the traits toward the optimum (OFF stays at the founder, which scores 0.22)", () => {
    expect(founderAffinity).toBeCloseTo(0.22, 2);
    expect(curve("OFF").finalAffinity).toBeCloseTo(founderAffinity, 12);
    expect(curve("GENETIC").finalAffinity).toBeGreaterThan(founderAffinity);
    expect(curve("SELF_CORRECTING").finalAffinity).toBeGreaterThan(founderAffinity);
    // The two traits that matter moved down, toward exploration 0.25 and precision 0.2, for most roles.
    for (const mode of ["GENETIC", "SELF_CORRECTING"]) {
      const roles = Object.values(curve(mode).finalTraits);
      const closer = roles.filter(
        (t) => Math.hypot(t.exploration - 0.25, t.precision - 0.2) < Math.hypot(0.25, 0.3),
      );
      expect(closer.length).toBeGreaterThanOrEqual(2);
    }
  });

  it("SELF_CORRECTING really self-corrects: 8 self-corrections and 42 GENETIC fallbacks (the README's table)", () => {
    expect(curve("SELF_CORRECTING").steps).toEqual({ GENETIC: 42, SELF_CORRECTING: 8 });
    expect(curve("GENETIC").steps).toEqual({ GENETIC: EFFICACY_RUNS, SELF_CORRECTING: 0 });
    expect(curve("OFF").steps).toEqual({ GENETIC: 0, SELF_CORRECTING: 0 });
  });
});
