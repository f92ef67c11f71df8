import { AppError, ErrorCode } from "../../domain/errors.js";

/** Position of a record in a newest-first listing ordered by (createdAt desc, id desc). */
export interface Cursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** Opaque to clients: base64url of {t: epoch ms, id}. */
export const encodeCursor = (c: Cursor): string =>
  Buffer.from(JSON.stringify({ t: c.createdAt.getTime(), id: c.id }), "utf8").toString("base64url");

export const decodeCursor = (raw: string): Cursor => {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  if (
    typeof value === "object" &&
    value !== null &&
    "t" in value &&
    "id" in value &&
    typeof value.t === "number" &&
    Number.isFinite(value.t) &&
    typeof value.id === "string" &&
    value.id.length > 0
  ) {
    return { createdAt: new Date(value.t), id: value.id };
  }
  throw new AppError(
    ErrorCode.BadUserInput,
    "Invalid pagination cursor: pass an endCursor from a previous page.",
    {
      details: { argument: "after" },
    },
  );
};
