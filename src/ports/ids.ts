/** Identifier source, injected so tests can make ids predictable. */
export interface IdGenerator {
  next(): string;
}
