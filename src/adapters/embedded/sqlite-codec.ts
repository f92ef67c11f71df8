/**
 * Documents are stored as JSON; dates as `{"$$date": epoch ms}` (NeDB's own form, so imported
 * documents need no translation) and revived as Date on reading.
 */
export const encodeDoc = (value: unknown): string =>
  JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    return raw instanceof Date ? { $$date: raw.getTime() } : v;
  });

export const decodeDoc = <T>(text: string): T =>
  JSON.parse(text, (_key, v) =>
    typeof v === "object" && v !== null && typeof v.$$date === "number" ? new Date(v.$$date) : v,
  ) as T;
