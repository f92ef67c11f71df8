import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import { TokenUsage } from "./common.type.js";

@ObjectType({ description: "RFC 9162 inclusion proof of a leaf in a Merkle tree; hashes are lowercase hex." })
export class InclusionProof {
  @Field(() => Int)
  leafIndex!: number;

  @Field(() => Int)
  treeSize!: number;

  @Field({ description: "SHA-256(0x00 ‖ leaf data)." })
  leafHash!: string;

  @Field(() => [String], { description: "From the leaf's sibling up to the root's child." })
  auditPath!: string[];

  @Field({ description: "The root the path leads to, recomputed from the stored leaves." })
  root!: string;
}

@ObjectType()
export class TranscriptMessage {
  @Field()
  role!: string;

  @Field()
  content!: string;
}

@ObjectType({ description: "One parameter of a request, by its name in the hashed entry." })
export class TranscriptParam {
  @Field()
  name!: string;

  @Field(() => Float, {
    nullable: true,
    description: "The value of a numeric parameter; null for a text one.",
  })
  value!: number | null;

  @Field(() => String, {
    nullable: true,
    description: "The value of a text parameter (reasoningEffort, verbosity); null for a numeric one.",
  })
  text!: string | null;
}

@ObjectType()
export class TranscriptRequest {
  @Field()
  system!: string;

  @Field(() => [TranscriptMessage])
  messages!: TranscriptMessage[];

  @Field(() => [TranscriptParam], { description: "The request's params object as name/value pairs." })
  params!: TranscriptParam[];

  @Field()
  json!: boolean;
}

@ObjectType()
export class TranscriptResponse {
  @Field()
  content!: string;

  @Field()
  model!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "The configured provider that answered (VEX_LLM_PROVIDERS; 'default' for OPENAI_*); null for calls recorded without one. Hashed only when set.",
  })
  provider!: string | null;

  @Field(() => TokenUsage, {
    nullable: true,
    description:
      "The usage the server reported (hashed with the entry); null in entries recorded before usage was.",
  })
  usage!: TokenUsage | null;
}

@ObjectType({
  description:
    "One LLM exchange of an agent. Its leaf hash is SHA-256(0x00 ‖ RFC 8785 JSON of {index, kind, round, request: {system, messages, params (as an object), json}, response: {content, model, provider (only when set), usage (when recorded)}}).",
})
export class TranscriptEntry {
  @Field(() => Int, { description: "0-based position in the agent's call order." })
  index!: number;

  @Field({ description: "ANSWER, SYNTHESIS, CHALLENGE, REBUTTAL, REPAIR, …" })
  kind!: string;

  @Field(() => Int, { description: "1-based debate round; 0 outside the debate." })
  round!: number;

  @Field(() => TranscriptRequest)
  request!: TranscriptRequest;

  @Field(() => TranscriptResponse)
  response!: TranscriptResponse;
}

@ObjectType({
  description: "A leaf of the tenant's ledger: RFC 8785 JSON of exactly these fields (usage only when set).",
})
export class LedgerEntry {
  @Field(() => ID)
  runId!: string;

  @Field()
  merkleRoot!: string;

  @Field()
  traceRoot!: string;

  @Field(() => Int, { description: "Leaves of the run's own tree." })
  leafCount!: number;

  @Field({ description: "ISO 8601 time the entry was appended, exactly as hashed." })
  recordedAt!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "The run's usage summary (see Orchestration.usage) as the RFC 8785 JSON committed as a sixth field of the leaf data; null in entries appended before usage was committed (five fields).",
  })
  usage!: string | null;
}

@ObjectType({ description: "A C2SP tlog-checkpoint of the tenant's ledger, signed as a C2SP signed note." })
export class Checkpoint {
  @Field({ description: "The log's identity; also the signing key's name." })
  origin!: string;

  @Field(() => Int)
  treeSize!: number;

  @Field({ description: "Root hash (hex); the note carries it in base64." })
  rootHash!: string;

  @Field({ description: "The whole signed note: origin, size, base64 root, blank line, signature line." })
  note!: string;

  @Field()
  createdAt!: Date;
}

@ObjectType({
  description: "A run's ledger entry, its RFC 9162 inclusion proof and the checkpoint at treeSize.",
})
export class LedgerProof {
  @Field(() => LedgerEntry)
  entry!: LedgerEntry;

  @Field(() => Int)
  leafIndex!: number;

  @Field(() => Int)
  treeSize!: number;

  @Field()
  leafHash!: string;

  @Field(() => [String])
  auditPath!: string[];

  @Field()
  root!: string;

  @Field(() => Checkpoint)
  checkpoint!: Checkpoint;
}

@ObjectType({ description: "RFC 9162 consistency proof between two sizes of the tenant's ledger." })
export class ConsistencyProof {
  @Field(() => Int)
  firstSize!: number;

  @Field(() => Int)
  secondSize!: number;

  @Field()
  firstRoot!: string;

  @Field()
  secondRoot!: string;

  @Field(() => [String])
  proof!: string[];
}

@ObjectType({ description: "The key that signs the tenant's ledger checkpoints." })
export class LedgerPublicKey {
  @Field({ description: "Key name in signature lines: the ledger's origin." })
  keyName!: string;

  @Field({ description: "C2SP key ID (8 hex digits): SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]." })
  keyId!: string;

  @Field()
  algorithm!: string;

  @Field({ description: "Base64 of the 32-byte Ed25519 public key." })
  publicKey!: string;

  @Field({ description: "golang.org/x/mod/sumdb/note verifier key: <name>+<key ID>+<base64(0x01 ‖ key)>." })
  verifierKey!: string;
}

@ObjectType({ description: "What was anchored: a signed checkpoint of the tenant's ledger." })
export class AnchorEntry {
  @Field()
  origin!: string;

  @Field(() => ID)
  runId!: string;

  @Field(() => Int)
  treeSize!: number;

  @Field()
  rootHash!: string;

  @Field({ description: "SHA-256 (hex) of the whole signed checkpoint note." })
  checkpointHash!: string;
}

@ObjectType()
export class AnchorVerification {
  @Field()
  valid!: boolean;

  @Field(() => String, { nullable: true })
  reason!: string | null;
}

@ObjectType({
  description:
    "A record in an anchor backend's hash chain. recordHash = SHA-256 of RFC 8785 JSON of {seq, prevHash, anchoredAt, entry}.",
})
export class AnchorReceipt {
  @Field({ description: "file or mongo." })
  backend!: string;

  @Field()
  anchorId!: string;

  @Field(() => Int)
  seq!: number;

  @Field({ description: "recordHash of the previous record; 64 zeros for the first." })
  prevHash!: string;

  @Field({ description: "ISO 8601 time of anchoring, exactly as hashed." })
  anchoredAt!: string;

  @Field(() => AnchorEntry)
  entry!: AnchorEntry;

  @Field()
  recordHash!: string;
}
