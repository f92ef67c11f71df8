/** A promise and the function that fulfils it (Node 20 has no Promise.withResolvers). */
export const deferred = () => {
  let open = () => {};
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
};

/** Every item of an async iterable, in order, once it ends. */
export const allOf = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};
