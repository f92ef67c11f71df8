import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from "type-graphql";
import type { AnchorReceipt as AnchorReceiptRecord } from "../domain/anchor.js";
import type { AgentResult as AgentResultRecord } from "../domain/run.js";
import type { TranscriptEntry as TranscriptEntryRecord } from "../domain/transcript.js";
import type { StoredCheckpoint } from "../ports/provenance-store.js";
import { Agent, AgentResult } from "../schema/agent.type.js";
import { Orchestration } from "../schema/orchestration.type.js";
import {
  AnchorReceipt,
  AnchorVerification,
  Checkpoint,
  ConsistencyProof,
  InclusionProof,
  LedgerProof,
  LedgerPublicKey,
  TranscriptEntry,
} from "../schema/provenance.type.js";
import type { GraphQLContext } from "./context.type.js";
import { proofKey } from "./loaders.js";

/** Domain → GraphQL shapes of the provenance records: renames and derived fields only. */

const toCheckpointView = (c: StoredCheckpoint) => ({
  origin: c.note.slice(0, c.note.indexOf("\n")),
  treeSize: c.treeSize,
  rootHash: c.rootHash,
  note: c.note,
  createdAt: c.createdAt,
});

const toTranscriptView = (e: TranscriptEntryRecord) => ({
  ...e,
  request: {
    ...e.request,
    messages: e.request.messages.map((m) => ({ role: m.role, content: m.content })),
    params: Object.entries(e.request.params).map(([name, value]) =>
      typeof value === "number" ? { name, value, text: null } : { name, value: null, text: value },
    ),
  },
  response: { ...e.response, provider: e.response.provider ?? null },
});

/** An agent's result as the API shows it: mappers add the ids its inclusionProof needs. */
type ResultWithIds = AgentResultRecord & { readonly agentId?: string; readonly runId?: string };

@Resolver()
export class ProvenanceResolver {
  @Query(() => InclusionProof, {
    nullable: true,
    description: "RFC 9162 inclusion proof of an agent's result in its run's Merkle tree; null when unknown.",
  })
  inclusionProof(
    @Arg("orchestrationId", () => ID) orchestrationId: string,
    @Arg("agentId", () => ID) agentId: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.provenance.inclusionProof(ctx.tenantId, orchestrationId, agentId);
  }

  @Query(() => Checkpoint, {
    nullable: true,
    description:
      "The signed checkpoint of the tenant's ledger at treeSize (default: the latest); null when none.",
  })
  async ledgerCheckpoint(
    @Ctx() ctx: GraphQLContext,
    @Arg("treeSize", () => Int, { nullable: true }) treeSize?: number | null,
  ) {
    const checkpoint = await ctx.provenance.checkpoint(ctx.tenantId, treeSize ?? undefined);
    return checkpoint && toCheckpointView(checkpoint);
  }

  @Query(() => ConsistencyProof, {
    description: "RFC 9162 consistency proof that the ledger at secondSize extends the ledger at firstSize.",
  })
  ledgerConsistencyProof(
    @Arg("firstSize", () => Int) firstSize: number,
    @Arg("secondSize", () => Int) secondSize: number,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.provenance.consistencyProof(ctx.tenantId, firstSize, secondSize);
  }

  @Query(() => LedgerPublicKey, {
    description: "The Ed25519 key that signs the tenant's ledger checkpoints.",
  })
  ledgerPublicKey(@Ctx() ctx: GraphQLContext) {
    return ctx.provenance.publicKey(ctx.tenantId);
  }
}

@Resolver(() => Orchestration)
export class OrchestrationProvenanceResolver {
  @FieldResolver(() => [AnchorReceipt], { description: "Receipts of the run's anchored ledger checkpoint." })
  anchorReceipts(@Root() run: Orchestration, @Ctx() ctx: GraphQLContext) {
    return ctx.provenance.receipts(ctx.tenantId, run.id);
  }

  @FieldResolver(() => LedgerProof, {
    nullable: true,
    description:
      "The run's entry in the tenant's ledger, proven at treeSize (default: the latest checkpoint).",
  })
  async ledgerProof(
    @Root() run: Orchestration,
    @Ctx() ctx: GraphQLContext,
    @Arg("treeSize", () => Int, { nullable: true }) treeSize?: number | null,
  ) {
    const proof = await ctx.provenance.ledgerProof(ctx.tenantId, run.id, treeSize ?? undefined);
    return proof && { ...proof, checkpoint: toCheckpointView(proof.checkpoint) };
  }
}

@Resolver(() => Agent)
export class AgentProvenanceResolver {
  @FieldResolver(() => [TranscriptEntry], {
    description:
      "Every LLM exchange of the agent in call order, debate calls included; its tree's root is result.traceRoot.",
  })
  transcript(@Root() agent: Agent & { transcript?: readonly TranscriptEntryRecord[] }) {
    return (agent.transcript ?? []).map(toTranscriptView);
  }
}

@Resolver(() => AgentResult)
export class AgentResultProvenanceResolver {
  @FieldResolver(() => InclusionProof, {
    nullable: true,
    description: "Inclusion proof of this result (leaf contextHash) in the run's Merkle tree.",
  })
  inclusionProof(@Root() result: ResultWithIds, @Ctx() ctx: GraphQLContext) {
    if (result.agentId === undefined || result.runId === undefined) return null;
    return ctx.loaders.inclusionProof.load(proofKey(result.runId, result.agentId));
  }
}

@Resolver(() => AnchorReceipt)
export class AnchorReceiptResolver {
  @FieldResolver(() => AnchorVerification, {
    description: "The issuing backend re-reads its chain and recomputes every hash up to this record.",
  })
  verification(@Root() receipt: AnchorReceiptRecord, @Ctx() ctx: GraphQLContext) {
    return ctx.provenance.verifyReceipt(receipt);
  }
}

/** Every resolver of this file, for buildSchema. */
export const PROVENANCE_RESOLVERS = [
  ProvenanceResolver,
  OrchestrationProvenanceResolver,
  AgentProvenanceResolver,
  AgentResultProvenanceResolver,
  AnchorReceiptResolver,
] as const;
