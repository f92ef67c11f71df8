import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FitnessObservation } from "../../src/domain/evolution.js";
import type { Genome } from "../../src/domain/genome.js";
import type { EvolutionStore } from "../../src/ports/evolution-store.js";
import { aGenome } from "../fixtures/builders.js";
import {
  aGenePool,
  anEvolutionRecord,
  anExperiment,
  aPoolMember,
  aRule,
} from "../fixtures/evolution-builders.js";
import { expectAppError, readAll } from "../support/assertions.js";

/** How a contract run gets a fresh, empty evolution store for each test and disposes of it. */
export interface EvolutionStoreContractInit {
  readonly name: string;
  /** A new, empty store; called before every test. */
  create(): Promise<EvolutionStore>;
  /** Disposes of a store made by `create`. @default store.close() */
  destroy?(store: EvolutionStore): Promise<void>;
  /**
   * A second store on the same data, opened as another process would (its own connection), closed by
   * the caller; absent where data cannot be shared (in memory).
   */
  peer?(store: EvolutionStore): Promise<EvolutionStore>;
}

const A = "tenant-a";
const B = "tenant-b";

const ids = (items: readonly { id: string }[]) => items.map((i) => i.id);

const observe = (genome: Genome, fitness: number, at: Date, addIfAbsent = false): FitnessObservation => ({
  role: "CRITIC",
  genome,
  fitness,
  at,
  addIfAbsent,
});
const later = (date: Date, ms: number) => new Date(date.getTime() + ms);

/**
 * The behaviour every `EvolutionStore` adapter must have (docs/design.md, Semantics, Tenancy). Run it once
 * per adapter: `evolutionStoreContract({ name: "mongo", create, destroy })`.
 */
export const evolutionStoreContract = (init: EvolutionStoreContractInit): void => {
  describe(`EvolutionStore contract: ${init.name}`, () => {
    let store: EvolutionStore;
    beforeEach(async () => {
      store = await init.create();
    });
    afterEach(async () => {
      if (init.destroy) await init.destroy(store);
      else await store.close();
    });

    describe("gene pools", () => {
      it("loads nothing for a new tenant", async () => {
        expect(await store.pools.load(A)).toStrictEqual({ pools: [], members: [] });
      });

      it("round-trips members and pointers, replacing by genome id and role", async () => {
        const m1 = aPoolMember({ role: "ROOT" });
        const m2 = aPoolMember({
          role: "CRITIC",
          stats: { evaluations: 0, total: 0, best: null, last: null },
        });
        await store.pools.saveMember(A, m1);
        await store.pools.saveMember(A, m2);
        const updated = { ...m1, stats: { evaluations: 5, total: 3.5, best: 0.9375, last: 0.75 } };
        await store.pools.saveMember(A, updated);
        const pool = aGenePool({ role: "ROOT", currentGenomeId: m1.genome.id });
        await store.pools.savePool(A, pool);
        const moved = { ...pool, currentGenomeId: m2.genome.id, evolutions: 3 };
        await store.pools.savePool(A, moved);
        const loaded = await store.pools.load(A);
        expect(loaded.pools).toStrictEqual([moved]);
        expect(loaded.members).toStrictEqual([updated, m2]);
        expect(loaded.members[0]?.createdAt).toBeInstanceOf(Date);
      });

      it("removes exactly the given members of the tenant", async () => {
        const genome = aGenome();
        const [x, y, z] = [aPoolMember(), aPoolMember(), aPoolMember({ genome })];
        for (const m of [x, y, z]) await store.pools.saveMember(A, m);
        const theirs = aPoolMember({ tenantId: B, genome });
        await store.pools.saveMember(B, theirs);
        await store.pools.removeMembers(A, [x?.genome.id ?? "", genome.id, "genome-unknown"]);
        expect((await store.pools.load(A)).members).toStrictEqual([y]);
        expect((await store.pools.load(B)).members).toStrictEqual([theirs]);
        await store.pools.removeMembers(A, []);
      });

      it("keeps tenants apart, even for the same genome id and role", async () => {
        const genome = aGenome();
        await store.pools.saveMember(A, aPoolMember({ genome }));
        await store.pools.savePool(A, aGenePool({ role: "CRITIC", currentGenomeId: genome.id }));
        const other = aPoolMember({
          tenantId: B,
          genome,
          stats: { evaluations: 1, total: 0.25, best: 0.25, last: 0.25 },
        });
        await store.pools.saveMember(B, other);
        expect((await store.pools.load(B)).members).toStrictEqual([other]);
        expect((await store.pools.load(B)).pools).toStrictEqual([]);
        expect((await store.pools.load(A)).members[0]?.stats.evaluations).toBe(4);
      });

      it("moves a pointer by compare-and-set: of two writers from one version, exactly one wins", async () => {
        const first = await Promise.all([
          store.pools.swapPool(A, aGenePool({ role: "CRITIC", evolutions: 1 }), 0),
          store.pools.swapPool(A, aGenePool({ role: "CRITIC", evolutions: 1 }), 0),
        ]);
        expect(first.filter(Boolean)).toHaveLength(1);
        const next = aGenePool({ role: "CRITIC", evolutions: 2 });
        const second = await Promise.all([
          store.pools.swapPool(A, next, 1),
          store.pools.swapPool(A, aGenePool({ role: "CRITIC", evolutions: 2 }), 1),
        ]);
        expect(second.filter(Boolean)).toHaveLength(1);
        // A writer that read an older version changes nothing.
        expect(await store.pools.swapPool(A, aGenePool({ role: "CRITIC", evolutions: 2 }), 0)).toBe(false);
        const { pools } = await store.pools.load(A);
        expect(pools.filter((p) => p.role === "CRITIC").map((p) => p.evolutions)).toEqual([2]);
        // Another tenant's pointer of the same role is its own.
        expect(
          await store.pools.swapPool(B, aGenePool({ tenantId: B, role: "CRITIC", evolutions: 1 }), 0),
        ).toBe(true);
      });

      it("adds fitness in order to members, and adds an absent genome only when asked", async () => {
        const scored = aPoolMember({ role: "CRITIC" });
        await store.pools.saveMember(A, scored);
        const [founder, evicted] = [aGenome(), aGenome()];
        const at = later(scored.createdAt, 1000);
        const changed = await store.pools.addFitness(A, [
          observe(scored.genome, 0.25, at),
          observe(evicted, 0.5, at),
          observe(founder, 0.125, at, true),
          observe(scored.genome, 0.75, later(at, 1)),
        ]);
        const updated = { ...scored, stats: { evaluations: 6, total: 3.75, best: 0.9375, last: 0.75 } };
        const added = {
          tenantId: A,
          role: "CRITIC" as const,
          genome: founder,
          stats: { evaluations: 1, total: 0.125, best: 0.125, last: 0.125 },
          createdAt: at,
        };
        expect(changed).toStrictEqual([updated, added]);
        expect((await store.pools.load(A)).members).toStrictEqual([updated, added]);
        // Another tenant's genome of the same id is not a member of this tenant.
        expect(await store.pools.addFitness(B, [observe(scored.genome, 0.5, at)])).toStrictEqual([]);
        expect(await store.pools.addFitness(A, [])).toStrictEqual([]);
        // saveMember sets the statistics, the observations added before included; removal drops both.
        await store.pools.saveMember(A, scored);
        expect((await store.pools.load(A)).members).toStrictEqual([scored, added]);
        await store.pools.removeMembers(A, [scored.genome.id, founder.id]);
        expect((await store.pools.load(A)).members).toStrictEqual([]);
      });

      it("counts every observation once when writers score one genome at once", async () => {
        const other = init.peer ? await init.peer(store) : store;
        try {
          const genome = aGenome();
          const start = new Date("2026-06-01T00:00:00Z");
          const fitness = Array.from({ length: 12 }, (_, i) => (i + 1) / 16);
          const writes = fitness.map((f, i) =>
            (i % 2 === 0 ? store : other).pools.addFitness(A, [observe(genome, f, later(start, i), true)]),
          );
          await Promise.all(writes);
          const { members } = await other.pools.load(A);
          expect(members.map((m) => m.stats)).toStrictEqual([
            { evaluations: 12, total: 78 / 16, best: 12 / 16, last: 12 / 16 },
          ]);
        } finally {
          if (other !== store) await other.close();
        }
      });

      it("rejects a record of another tenant", async () => {
        await expectAppError(
          store.pools.saveMember(A, aPoolMember({ tenantId: B })),
          "INTERNAL_SERVER_ERROR",
        );
        await expectAppError(store.pools.savePool(B, aGenePool({ tenantId: A })), "INTERNAL_SERVER_ERROR");
        expect(await store.pools.load(A)).toStrictEqual({ pools: [], members: [] });
      });
    });

    describe("experiments", () => {
      it("lists all oldest first, with every field intact", async () => {
        const es = [
          anExperiment(),
          anExperiment({ role: "ROOT", fitness: 1, importance: 1 }),
          anExperiment(),
        ];
        await store.experiments.append(A, [es[2]!, es[0]!]);
        await store.experiments.append(A, [es[1]!]);
        const all = await store.experiments.listAll(A);
        expect(all).toStrictEqual(es);
        expect(all[0]?.recordedAt).toBeInstanceOf(Date);
      });

      it("returns the n oldest and removes exactly the given ids", async () => {
        const es = Array.from({ length: 8 }, () => anExperiment());
        await store.experiments.append(A, es);
        await store.experiments.append(B, [anExperiment({ tenantId: B, id: es[0]!.id })]);
        const oldest = await store.experiments.oldest(A, 5);
        expect(oldest).toStrictEqual(es.slice(0, 5));
        expect(await store.experiments.oldest(A, 0)).toStrictEqual([]);
        expect(await store.experiments.oldest(A, 100)).toHaveLength(8);
        const removed = await store.experiments.removeExactly(A, [...ids(oldest), "experiment-unknown"]);
        expect(removed).toBe(5);
        expect(await store.experiments.listAll(A)).toStrictEqual(es.slice(5));
        expect(await store.experiments.listAll(B)).toHaveLength(1);
        expect(await store.experiments.removeExactly(A, [])).toBe(0);
      });

      it("rejects a duplicate id of the same tenant with CONFLICT", async () => {
        const e = anExperiment();
        await store.experiments.append(A, [e]);
        await expectAppError(store.experiments.append(A, [{ ...e, fitness: 0 }]), "CONFLICT");
        expect(await store.experiments.listAll(A)).toStrictEqual([e]);
      });

      it("loads exactly each tenant's own rows (the seed's evolution_store_test)", async () => {
        const mine = [anExperiment(), anExperiment()];
        const theirs = [anExperiment({ tenantId: B }), anExperiment({ tenantId: B })];
        await store.experiments.append(A, mine);
        await store.experiments.append(B, theirs);
        expect(await store.experiments.listAll(A)).toStrictEqual(mine);
        expect(await store.experiments.listAll(B)).toStrictEqual(theirs);
        expect(ids((await store.experiments.list(B, { first: 10 })).items)).toStrictEqual(
          ids(theirs).reverse(),
        );
        await expectAppError(
          store.experiments.append(A, [anExperiment({ tenantId: B })]),
          "INTERNAL_SERVER_ERROR",
        );
      });

      it("pages newest first, stable while experiments are appended", async () => {
        const es = Array.from({ length: 7 }, () => anExperiment());
        await store.experiments.append(A, es);
        const seen = await readAll(
          (p) => store.experiments.list(A, p),
          3,
          () => store.experiments.append(A, [anExperiment()]),
        );
        expect(ids(seen)).toStrictEqual(ids(es).reverse());
        await expectAppError(
          store.experiments.list(A, { first: 2, after: "not a cursor!" }),
          "BAD_USER_INPUT",
        );
      });
    });

    describe("rules", () => {
      it("adds rules de-duplicated by normalised text, per tenant", async () => {
        const r1 = aRule({ description: "High exploration aids discovery." });
        const r2 = aRule({ description: "  high   EXPLORATION aids discovery" });
        const r3 = aRule({ description: "Low skepticism hurts accuracy" });
        expect(await store.rules.add(A, [r1, r2])).toStrictEqual([r1]);
        expect(await store.rules.add(A, [r2, r3])).toStrictEqual([r3]);
        const theirs = aRule({ tenantId: B, description: r1.description });
        expect(await store.rules.add(B, [theirs])).toStrictEqual([theirs]);
        expect(await readAll((p) => store.rules.list(A, p), 1)).toStrictEqual([r3, r1]);
        expect((await store.rules.list(B, { first: 5 })).items).toStrictEqual([theirs]);
      });

      it("returns the most confident rules first", async () => {
        const rules = [0.5, 0.9, 0.7, 0.9].map((confidence) => aRule({ confidence }));
        await store.rules.add(A, rules);
        expect(ids(await store.rules.top(A, 3))).toStrictEqual(ids([rules[3]!, rules[1]!, rules[2]!]));
        expect(await store.rules.top(B, 3)).toStrictEqual([]);
        expect(await store.rules.top(A, 0)).toStrictEqual([]);
      });
    });

    describe("evolution records", () => {
      it("round-trips records and lists them newest first, per tenant", async () => {
        const records = [
          anEvolutionRecord(),
          anEvolutionRecord({ kind: "GENETIC", adjustments: [] }),
          anEvolutionRecord(),
        ];
        for (const r of records) await store.records.append(A, r);
        await store.records.append(B, anEvolutionRecord({ tenantId: B }));
        expect(await readAll((p) => store.records.list(A, p), 2)).toStrictEqual([...records].reverse());
        await expectAppError(store.records.append(A, records[0]!), "CONFLICT");
        await expectAppError(store.records.append(B, anEvolutionRecord()), "INTERNAL_SERVER_ERROR");
        expect((await store.records.list(B, { first: 10 })).items).toHaveLength(1);
      });
    });

    it("rejects a page size that is not a non-negative integer with BAD_USER_INPUT on every listing", async () => {
      for (const first of [-1, 2.5]) {
        await expectAppError(store.experiments.list(A, { first }), "BAD_USER_INPUT");
        await expectAppError(store.rules.list(A, { first }), "BAD_USER_INPUT");
        await expectAppError(store.records.list(A, { first }), "BAD_USER_INPUT");
      }
    });
  });
};
