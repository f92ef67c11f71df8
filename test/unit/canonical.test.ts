import { describe, expect, it } from "vitest";
import { canonicalBytes, canonicalJson, sha256Hex } from "../../src/domain/canonical.js";
import { AppError } from "../../src/domain/errors.js";
import { makeTraits } from "../../src/domain/genome.js";
import { type AgentLeafInput, agentLeafData, agentLeafHash } from "../../src/domain/leaf.js";
import { leafHash, toHex } from "../../src/domain/merkle.js";
import type { Debate } from "../../src/domain/run.js";

const fromJsonText = (text: string): string => canonicalJson(JSON.parse(text));
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const ieee = (hex: string): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
};

describe("canonicalJson (RFC 8785)", () => {
  // Input/output pairs from cyberphone/json-canonicalization testdata/{input,output}/*.json
  // (the RFC 8785 author's reference test data).
  it("canonicalises the reference test data", () => {
    expect(
      fromJsonText(String.raw`{
  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],
  "escaping": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`),
    ).toBe(
      String.raw`{"escaping":"€$\u000f\nA'B\"\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}`,
    );
    expect(
      fromJsonText(String.raw`{
  "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
  "10": { },
  "": "empty",
  "a": { },
  "111": [ { } ],
  "A": { }
}`),
    ).toBe(String.raw`{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}`);
    expect(
      fromJsonText(String.raw`{
  "\u20ac": "Euro Sign",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}`),
    ).toBe(
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\u{1f602}":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    // No Unicode normalisation.
    expect(fromJsonText(String.raw`{"Unnormalized Unicode":"\u1e0d\u0307"}`)).toBe(
      '{"Unnormalized Unicode":"\u1e0d\u0307"}',
    );
  });

  it("sorts keys by UTF-16 code units, recursively, whatever the insertion order", () => {
    // U+1F602 is the surrogate pair D83D DE02, so it sorts before U+FB33 (code-point order would not).
    expect(canonicalJson({ "\ufb33": 1, "\u{1f602}": 2, b: { z: 1, a: [{ y: 1, x: 2 }] }, a: null })).toBe(
      '{"a":null,"b":{"a":[{"x":2,"y":1}],"z":1},"\u{1f602}":2,"\ufb33":1}',
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
    expect(canonicalJson({ 10: "x", 9: "y", a: "z" })).toBe('{"10":"x","9":"y","a":"z"}');
  });

  // RFC 8785 Appendix B (IEEE 754 bit pattern -> canonical text).
  it.each([
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ])("formats the number %s as %s", (bits, text) => {
    expect(canonicalJson(ieee(bits))).toBe(text);
  });

  it("formats common numbers the ECMAScript way", () => {
    expect(canonicalJson([1e21, 1e20, 0.1, 0.1 + 0.2, -0, 1.0, 100, 1e-7, 0.5])).toBe(
      "[1e+21,100000000000000000000,0.1,0.30000000000000004,0,1,100,1e-7,0.5]",
    );
  });

  it("escapes only what JSON requires", () => {
    expect(canonicalJson('\u0000\u001f\u007f\u2028 "\\/\b\f\n\r\t \u00e9 \u{1f602}')).toBe(
      '"\\u0000\\u001f\u007f\u2028 \\"\\\\/\\b\\f\\n\\r\\t \u00e9 \u{1f602}"',
    );
  });

  it("drops undefined members like JSON.stringify, and keeps nulls", () => {
    expect(canonicalJson({ a: undefined, b: null, c: [undefined] })).toBe('{"b":null,"c":[null]}');
  });

  it.each([
    ["undefined", undefined],
    ["a function", () => 1],
    ["a symbol", Symbol("s")],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity inside an object", { x: Number.NEGATIVE_INFINITY }],
    ["a BigInt", { n: 1n }],
    ["a lone surrogate", { s: "\ud800" }],
  ])("throws a clear AppError for %s", (_, value) => {
    expect(() => canonicalJson(value)).toThrow(AppError);
    expect(() => canonicalJson(value)).toThrow(/cannot be canonicalised as JSON \(RFC 8785\)/);
  });

  it("throws for cycles", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/Circular/);
  });

  it("encodes canonicalBytes as UTF-8", () => {
    const b = canonicalBytes({ k: "\u00e9\u20ac\u{1f602}" });
    expect(Array.from(b.subarray(0, 6))).toEqual([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22]);
    expect(b.length).toBe('{"k":""}'.length + 2 + 3 + 4);
    expect(decode(b)).toBe('{"k":"\u00e9\u20ac\u{1f602}"}');
  });
});

describe("sha256Hex", () => {
  it("hashes bytes and UTF-8 strings (FIPS 180-2 vectors)", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex(Uint8Array.of(0x61, 0x62, 0x63))).toBe(sha256Hex("abc"));
  });
});

describe("agent leaf", () => {
  const debate: Debate = {
    protocol: "WEIGHTED_CONFIDENCE",
    rounds: [
      {
        round: 1,
        claim: "Water boils at 100 °C at sea level.",
        outcome: "CHALLENGED",
        verdict: {
          isChallenge: true,
          confidence: 0.7,
          reasoning: "Pressure matters.",
          suggestedRevision: null,
        },
        rawChallenge: null,
        rebuttal: "At 1 atm, water boils at 100 °C.",
      },
    ],
    votes: [
      { voter: "AGENT", agrees: true, weight: 0.5 },
      { voter: "SHADOW", agrees: false, weight: 0.7 },
    ],
    consensusReached: false,
    verdict: "UNDECIDED",
  };
  const input: AgentLeafInput = {
    runId: "run-1",
    agentId: "agent-1",
    role: "RESEARCHER",
    depth: 1,
    response: "At 1 atm, water boils at 100 °C.",
    confidence: 0.4166666666666667,
    debate,
    traits: makeTraits({ exploration: 0.25, skepticism: 0.9 }),
  };
  // The same values, every object literal written in a different key order.
  const reordered: AgentLeafInput = {
    traits: { verbosity: 0.5, skepticism: 0.9, precision: 0.5, exploration: 0.25, creativity: 0.5 },
    debate: {
      verdict: "UNDECIDED",
      votes: [
        { weight: 0.5, agrees: true, voter: "AGENT" },
        { weight: 0.7, voter: "SHADOW", agrees: false },
      ],
      rounds: [
        {
          rebuttal: "At 1 atm, water boils at 100 °C.",
          verdict: {
            suggestedRevision: null,
            reasoning: "Pressure matters.",
            isChallenge: true,
            confidence: 0.7,
          },
          outcome: "CHALLENGED",
          rawChallenge: null,
          claim: "Water boils at 100 °C at sea level.",
          round: 1,
        },
      ],
      consensusReached: false,
      protocol: "WEIGHTED_CONFIDENCE",
    },
    confidence: 0.4166666666666667,
    response: "At 1 atm, water boils at 100 °C.",
    depth: 1,
    role: "RESEARCHER",
    agentId: "agent-1",
    runId: "run-1",
  };

  it("is byte-identical for differently ordered object literals", () => {
    expect(agentLeafData(reordered)).toEqual(agentLeafData(input));
    expect(toHex(agentLeafHash(reordered))).toBe(toHex(agentLeafHash(input)));
  });

  it("is the canonical JSON of exactly the eight committed fields", () => {
    const withExtras = { ...input, tenantId: "t-1", latencyMs: 12, contextHash: "x" } as AgentLeafInput;
    const text = decode(agentLeafData(withExtras));
    expect(text).toBe(decode(agentLeafData(input)));
    expect(Object.keys(JSON.parse(text))).toEqual([
      "agentId",
      "confidence",
      "debate",
      "depth",
      "response",
      "role",
      "runId",
      "traits",
    ]);
    expect(text.startsWith('{"agentId":"agent-1","confidence":0.4166666666666667,"debate":{')).toBe(true);
    expect(
      text.endsWith(
        ',"traits":{"creativity":0.5,"exploration":0.25,"precision":0.5,"skepticism":0.9,"verbosity":0.5}}',
      ),
    ).toBe(true);
  });

  it("hashes the leaf data with the RFC 6962 leaf prefix, and changes with any field", () => {
    const data = agentLeafData(input);
    expect(toHex(agentLeafHash(input))).toBe(toHex(leafHash(data)));
    expect(toHex(agentLeafHash(input))).not.toBe(sha256Hex(data));
    const variants: AgentLeafInput[] = [
      { ...input, runId: "run-2" },
      { ...input, agentId: "agent-2" },
      { ...input, role: "CRITIC" },
      { ...input, depth: 2 },
      { ...input, response: `${input.response} ` },
      { ...input, confidence: 0.41666666666666674 },
      { ...input, debate: { ...debate, consensusReached: true } },
      { ...input, traits: makeTraits({ exploration: 0.25, skepticism: 0.91 }) },
    ];
    const hashes = new Set([input, ...variants].map((v) => toHex(agentLeafHash(v))));
    expect(hashes.size).toBe(variants.length + 1);
  });
});
