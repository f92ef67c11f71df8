import { describe, expect, it } from "vitest";
import { EvolutionMemory, type TraitSuggestion } from "../../src/domain/evolution-memory.js";
import { DEFAULT_TRAITS, makeTraits, type TraitName } from "../../src/domain/genome.js";
import { createSeededRng } from "../../src/domain/random.js";
import {
  APPLY_CONFIDENCE_THRESHOLD,
  applyAdjustments,
  MAX_ADJUSTMENTS,
  MAX_REFLECTION_DELTA,
  type MergedSuggestion,
  mergeSuggestions,
  REFLECTION_PRIOR_CONFIDENCE,
  validateReflectionAdjustments,
} from "../../src/domain/reflection.js";

const stat = (trait: TraitName, r: number, current = 0.5): TraitSuggestion => ({
  trait,
  current,
  suggested: Math.min(1, Math.max(0, current + (r > 0 ? 0.1 : -0.1))),
  correlation: r,
  confidence: Math.abs(r),
});

describe("validateReflectionAdjustments", () => {
  it("accepts the seed's two-entry example with exact deltas", () => {
    const raw = JSON.parse(
      '{"adjustments":[{"trait":"exploration","delta":0.1,"reasoning":"more ideas"},{"trait":"precision","delta":-0.05}],"reasoning":"summary"}',
    );
    expect(validateReflectionAdjustments(raw)).toEqual([
      { trait: "exploration", delta: 0.1, reasoning: "more ideas" },
      { trait: "precision", delta: -0.05 },
    ]);
    expect(validateReflectionAdjustments(raw.adjustments)).toHaveLength(2);
  });

  it("accepts an empty list", () => {
    expect(validateReflectionAdjustments([])).toEqual([]);
    expect(validateReflectionAdjustments({ adjustments: [] })).toEqual([]);
  });

  it("accepts |delta| = 0.2 exactly and ignores extra fields", () => {
    expect(
      validateReflectionAdjustments([
        { trait: "verbosity", delta: -MAX_REFLECTION_DELTA, extra: true, reasoning: null },
      ]),
    ).toEqual([{ trait: "verbosity", delta: -0.2 }]);
  });

  it("rejects unknown trait names (the seed used 0.5 for them)", () => {
    expect(() => validateReflectionAdjustments([{ trait: "curiosity", delta: 0.1 }])).toThrow(
      /unknown trait "curiosity"/,
    );
    expect(() => validateReflectionAdjustments([{ trait: "Exploration", delta: 0.1 }])).toThrow(
      /unknown trait/,
    );
  });

  it("rejects |delta| > 0.2 and non-finite deltas", () => {
    expect(() => validateReflectionAdjustments([{ trait: "exploration", delta: 0.25 }])).toThrow(
      /exceeds 0.2/,
    );
    expect(() => validateReflectionAdjustments([{ trait: "exploration", delta: -0.9 }])).toThrow(
      /exceeds 0.2/,
    );
    expect(() => validateReflectionAdjustments([{ trait: "exploration", delta: "0.1" }])).toThrow(
      /finite number/,
    );
    expect(() => validateReflectionAdjustments([{ trait: "exploration", delta: Number.NaN }])).toThrow(
      /finite number/,
    );
  });

  it("rejects more than the maximum number of adjustments", () => {
    expect(MAX_ADJUSTMENTS).toBe(3);
    const four = (["exploration", "precision", "creativity", "skepticism"] as const).map((trait) => ({
      trait,
      delta: 0.1,
    }));
    expect(() => validateReflectionAdjustments(four)).toThrow(/at most 3 adjustments, got 4/);
  });

  it("rejects duplicates, non-arrays and non-objects, listing every problem", () => {
    expect(() => validateReflectionAdjustments("nope")).toThrow(/expected an array/);
    expect(() => validateReflectionAdjustments({ adjustments: "x" })).toThrow(/expected an array/);
    expect(() =>
      validateReflectionAdjustments([
        { trait: "precision", delta: 0.1 },
        { trait: "precision", delta: 0.1 },
      ]),
    ).toThrow(/precision appears more than once/);
    let message = "";
    try {
      validateReflectionAdjustments([
        42,
        { trait: "mood", delta: 0.5 },
        { trait: "creativity", reasoning: 7 },
      ]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/\[0\]: expected an object/);
    expect(message).toMatch(/\[1\]\.trait: unknown trait "mood"/);
    expect(message).toMatch(/\[1\]\.delta: \|0.5\| exceeds 0.2/);
    expect(message).toMatch(/\[2\]\.delta: expected a finite number/);
    expect(message).toMatch(/\[2\]\.reasoning: expected a string/);
  });
});

describe("mergeSuggestions", () => {
  it("puts statistical suggestions first, de-duplicates by trait, caps at 3", () => {
    const merged = mergeSuggestions({
      traits: DEFAULT_TRAITS,
      statistical: [stat("exploration", 0.6), stat("precision", -0.4)],
      reflection: [
        { trait: "precision", delta: -0.2 },
        { trait: "creativity", delta: 0.1 },
        { trait: "verbosity", delta: -0.1 },
      ],
    });
    expect(merged.map((m) => [m.trait, m.source])).toEqual([
      ["exploration", "STATISTICS"],
      ["precision", "STATISTICS"],
      ["creativity", "REFLECTION"],
    ]);
    expect(merged).toHaveLength(MAX_ADJUSTMENTS);
    // statistics win the de-duplication: precision keeps the −0.1 step, not the LLM's −0.2
    expect(merged[1]!.delta).toBeCloseTo(-0.1, 12);
    expect(merged[1]!.support).toBe("AGREED");
  });

  it("orders by confidence within each group, deterministically", () => {
    const input = {
      traits: DEFAULT_TRAITS,
      statistical: [stat("exploration", 0.35), stat("skepticism", 0.8), stat("verbosity", -0.5)],
      reflection: [],
    };
    const merged = mergeSuggestions(input);
    expect(merged.map((m) => m.trait)).toEqual(["skepticism", "verbosity", "exploration"]);
    expect(mergeSuggestions(input)).toEqual(merged);
  });

  it("boosts a statistical suggestion the LLM agrees with, discounts one it contests", () => {
    const base = { traits: DEFAULT_TRAITS, statistical: [stat("exploration", 0.4)] };
    const alone = mergeSuggestions({ ...base, reflection: [] })[0]!;
    const agreed = mergeSuggestions({
      ...base,
      reflection: [{ trait: "exploration", delta: 0.15, reasoning: "r" }],
    })[0]!;
    const contested = mergeSuggestions({ ...base, reflection: [{ trait: "exploration", delta: -0.1 }] })[0]!;
    expect(alone).toMatchObject({ confidence: 0.4, support: "UNCORROBORATED", reasoning: null });
    expect(agreed.support).toBe("AGREED");
    expect(agreed.confidence).toBeCloseTo(1 - 0.6 * (1 - REFLECTION_PRIOR_CONFIDENCE), 12);
    expect(agreed.reasoning).toBe("r");
    expect(contested.support).toBe("CONTESTED");
    expect(contested.confidence).toBeCloseTo(0.4 * (1 - REFLECTION_PRIOR_CONFIDENCE), 12);
    expect(alone.confidence).toBeLessThan(APPLY_CONFIDENCE_THRESHOLD);
    expect(agreed.confidence).toBeGreaterThanOrEqual(APPLY_CONFIDENCE_THRESHOLD);
    expect(contested.confidence).toBeLessThan(alone.confidence);
  });

  it("scores a reflection-only suggestion by the prior, corroborated or contested by r", () => {
    const reflection = [{ trait: "creativity" as const, delta: 0.1 }];
    const none = mergeSuggestions({ traits: DEFAULT_TRAITS, statistical: [], reflection })[0]!;
    expect(none).toMatchObject({ source: "REFLECTION", support: "UNCORROBORATED", correlation: null });
    expect(none.confidence).toBe(REFLECTION_PRIOR_CONFIDENCE);
    expect(none.confidence).toBeLessThan(APPLY_CONFIDENCE_THRESHOLD);
    const weakSame = mergeSuggestions({
      traits: DEFAULT_TRAITS,
      statistical: [],
      reflection,
      correlations: { creativity: 0.3 },
    })[0]!;
    expect(weakSame.support).toBe("AGREED");
    expect(weakSame.confidence).toBeCloseTo(1 - 0.7 * 0.7, 12);
    const opposite = mergeSuggestions({
      traits: DEFAULT_TRAITS,
      statistical: [],
      reflection,
      correlations: { creativity: -0.25 },
    })[0]!;
    expect(opposite.support).toBe("CONTESTED");
    expect(opposite.confidence).toBeCloseTo(0.3 * 0.75, 12);
  });

  it("drops suggestions that would not change the trait, and recomputes from the given traits", () => {
    const traits = makeTraits({ exploration: 1, creativity: 0.95 });
    const merged = mergeSuggestions({
      traits,
      statistical: [stat("exploration", 0.7, 0.9)],
      reflection: [
        { trait: "precision", delta: 0 },
        { trait: "creativity", delta: 0.2 },
      ],
    });
    expect(merged.map((m) => m.trait)).toEqual(["creativity"]);
    expect(merged[0]).toMatchObject({ current: 0.95, suggested: 1 });
    expect(merged[0]!.delta).toBeCloseTo(0.05, 12);
  });
});

describe("applyAdjustments", () => {
  const merged = (confidence: number, trait: TraitName = "exploration", delta = 0.1): MergedSuggestion => ({
    trait,
    current: 0.5,
    suggested: 0.5 + delta,
    delta,
    confidence,
    source: "STATISTICS",
    support: "UNCORROBORATED",
    correlation: confidence,
    reasoning: null,
  });

  it("applies what clears the threshold and reports what it applied", () => {
    const list = [
      merged(0.62),
      merged(0.49, "precision", -0.1),
      merged(APPLY_CONFIDENCE_THRESHOLD, "verbosity"),
    ];
    const out = applyAdjustments(DEFAULT_TRAITS, list);
    expect(out.applied.map((s) => s.trait)).toEqual(["exploration", "verbosity"]);
    expect(out.skipped.map((s) => s.trait)).toEqual(["precision"]);
    expect(out.traits.exploration).toBeCloseTo(0.6, 12);
    expect(out.traits.verbosity).toBeCloseTo(0.6, 12);
    expect(out.traits.precision).toBe(0.5);
    expect(Object.isFrozen(out.traits)).toBe(true);
  });

  it("would never apply the seed's reflection confidence (≤ 0.15)", () => {
    const out = applyAdjustments(DEFAULT_TRAITS, [merged(0.15)]);
    expect(out.applied).toEqual([]);
    expect(out.traits).toEqual(DEFAULT_TRAITS);
  });

  it("clamps, applies one suggestion per trait, and validates the threshold", () => {
    const out = applyAdjustments(makeTraits({ exploration: 0.95 }), [
      merged(0.9),
      merged(0.9, "exploration", -0.1),
    ]);
    expect(out.traits.exploration).toBe(1);
    expect(out.applied).toHaveLength(1);
    expect(out.skipped).toHaveLength(1);
    expect(() => applyAdjustments(DEFAULT_TRAITS, [], 1.5)).toThrow(/threshold/);
  });
});

describe("reachability of APPLY_CONFIDENCE_THRESHOLD with realistic inputs", () => {
  /**
   * 30 agents with varied genomes; fitness depends on exploration (strongly) and verbosity (weakly,
   * negatively) plus noise — the situation the seed could never produce (its genomes were all 0.5).
   */
  const realisticMemory = (seed: number, explorationWeight: number) => {
    const rng = createSeededRng(seed);
    const memory = new EvolutionMemory();
    for (let i = 0; i < 30; i++) {
      const traits = makeTraits({
        exploration: rng.next(),
        precision: rng.next(),
        creativity: rng.next(),
        skepticism: rng.next(),
        verbosity: rng.next(),
      });
      const noise = (rng.next() - 0.5) * 0.3;
      const fitness = Math.min(
        1,
        Math.max(0, 0.35 + explorationWeight * traits.exploration - 0.1 * traits.verbosity + noise),
      );
      memory.record({
        id: `x${i}`,
        runId: `run${Math.floor(i / 3)}`,
        agentId: `agent${i}`,
        role: "RESEARCHER",
        traits,
        fitness,
        recordedAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000),
      });
    }
    return memory;
  };

  it("a clear statistical signal is applied on its own", () => {
    const memory = realisticMemory(2024, 0.5);
    const stats = memory.suggestAdjustments(DEFAULT_TRAITS);
    const exploration = stats.find((s) => s.trait === "exploration")!;
    expect(exploration.confidence).toBeGreaterThanOrEqual(APPLY_CONFIDENCE_THRESHOLD);
    const merged = mergeSuggestions({
      traits: DEFAULT_TRAITS,
      statistical: stats,
      reflection: [],
      correlations: memory.correlations(),
    });
    const out = applyAdjustments(DEFAULT_TRAITS, merged);
    expect(out.applied.map((s) => s.trait)).toContain("exploration");
    expect(out.traits.exploration).toBeCloseTo(0.6, 12);
  });

  it("a moderate signal is applied once the LLM reflection agrees, not before", () => {
    // find a seed whose exploration correlation is moderate: suggested, but below the threshold alone
    let memory: EvolutionMemory | undefined;
    for (let seed = 1; seed < 200 && memory === undefined; seed++) {
      const m = realisticMemory(seed, 0.12);
      const r = m.correlations().exploration!;
      if (r > 0.3 && r < APPLY_CONFIDENCE_THRESHOLD) memory = m;
    }
    expect(memory).toBeDefined();
    const stats = memory!.suggestAdjustments(DEFAULT_TRAITS);
    const correlations = memory!.correlations();
    const alone = applyAdjustments(
      DEFAULT_TRAITS,
      mergeSuggestions({ traits: DEFAULT_TRAITS, statistical: stats, reflection: [], correlations }),
    );
    expect(alone.applied.map((s) => s.trait)).not.toContain("exploration");

    const reflection = validateReflectionAdjustments(
      JSON.parse(
        '{"adjustments":[{"trait":"exploration","delta":0.1,"reasoning":"answers were too narrow"}]}',
      ),
    );
    const merged = mergeSuggestions({ traits: DEFAULT_TRAITS, statistical: stats, reflection, correlations });
    const out = applyAdjustments(DEFAULT_TRAITS, merged);
    const applied = out.applied.find((s) => s.trait === "exploration")!;
    expect(applied.support).toBe("AGREED");
    expect(applied.confidence).toBeGreaterThanOrEqual(APPLY_CONFIDENCE_THRESHOLD);
    expect(out.traits.exploration).toBeGreaterThan(DEFAULT_TRAITS.exploration);
  });
});
