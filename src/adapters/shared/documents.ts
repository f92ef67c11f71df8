/** A stored document without its `_id`: the domain record it holds. */
export const strip = <T extends { _id: unknown }>(doc: T): Omit<T, "_id"> => {
  const { _id, ...rest } = doc;
  return rest;
};
