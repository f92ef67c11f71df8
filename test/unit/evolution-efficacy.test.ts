import { describe, expect, it } from "vitest";
import { DEFAULT_TRAITS, toLlmParams } from "../../src/domain/genome.js";
import { efficacyAffinity } from "../fakes/efficacy-llm.js";
import { EFFICACY_RUNS, type EfficacyCurve, runEfficacyScenario } from "../support/efficacy.js";

/**
 * Issue 5 item 7: against a fake whose shadow agreement and confidence peak at temperature ≈ 0.45 and
 * top_p ≈ 0.9, with a fixed seed, 50 runs per mode in separate tenants. `bench/evolution-efficacy.ts`
 * prints the same curves.
 */
describe("evolution efficacy (deterministic)", () => {
  const founderAffinity = efficacyAffinity(toLlmParams(DEFAULT_TRAITS, 400));
  let curves: EfficacyCurve[] = [];
  const curve = (mode: string) => curves.find((c) => c.mode === mode) as EfficacyCurve;

  it("runs 50 runs per mode", async () => {
    curves = await runEfficacyScenario(["OFF", "GENETIC", "SELF_CORRECTING"]);
    for (const c of curves) expect(c.fitness).toHaveLength(EFFICACY_RUNS);
  }, 120_000);

  it("GENETIC and SELF_CORRECTING each end with a higher mean fitness over the last 10 runs than OFF", () => {
    const off = curve("OFF").tailMean;
    expect(curve("GENETIC").tailMean).toBeGreaterThan(off);
    expect(curve("SELF_CORRECTING").tailMean).toBeGreaterThan(off);
  });

  it("moves the traits toward the optimum (OFF stays at the founder)", () => {
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

  it("SELF_CORRECTING really self-corrects (not only its GENETIC fallback)", () => {
    expect(curve("SELF_CORRECTING").steps.SELF_CORRECTING).toBeGreaterThan(0);
    expect(curve("GENETIC").steps).toEqual({ GENETIC: EFFICACY_RUNS, SELF_CORRECTING: 0 });
    expect(curve("OFF").steps).toEqual({ GENETIC: 0, SELF_CORRECTING: 0 });
  });
});
