import {
  createSourceEventStream,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  subscribe as graphqlSubscribe,
} from "graphql";
import { type ID, MessageType, stringifyMessage } from "graphql-ws";

/**
 * Subscription fan-out that executes and serialises each event once, not once per subscriber.
 *
 * A subscription's source stream (e.g. a run's events) hands the *same* event object to every
 * subscriber of that source (the event bus pushes one object to all its queues). graphql-js would
 * execute the selection set on it, and graphql-ws would JSON-serialise the result, once per
 * subscriber: with many subscribers of one run that was most of the delivery's CPU (BENCHMARKS.md,
 * benchmark 3). Here the formatted result of executing an event is kept with the event, per *share
 * key*, and every operation with that key gets the same serialised payload.
 *
 * The share key must cover everything an execution depends on besides the event: the document, the
 * operation name, the variables, and the caller (ws.ts uses the principal, from which the context is
 * built). Operations with different keys never share a result; operations without a key, events that
 * are not objects, and everything before the source stream (the subscribe resolver: authorisation,
 * tenant scoping, replay) are per operation, as before. The first operation to reach an event runs
 * the execution, with its own context; an event replayed from the store is a fresh object per
 * subscriber and is executed for that subscriber alone.
 *
 * graphql-ws still frames every message (see `NextFrames` for how the shared payload gets into it),
 * so the protocol's order, completion, errors and the socket's limits are unchanged.
 */

/** Where a shared result keeps its payload: the JSON of the formatted ExecutionResult. */
const SERIALISED_PAYLOAD = Symbol("vex.serialisedPayload");

/** What a shared operation's stream yields to graphql-ws in place of an ExecutionResult. */
interface SerialisedResult extends ExecutionResult {
  readonly [SERIALISED_PAYLOAD]: string;
}

/** The serialised payload of a shared result; undefined for an ordinary ExecutionResult. */
export const serialisedPayloadOf = (result: ExecutionResult): string | undefined =>
  (result as Partial<SerialisedResult>)[SERIALISED_PAYLOAD];

export interface SharedExecution {
  /** Lets the operation with these exec args share results with every other operation of `key`. */
  share(args: ExecutionArgs, key: string): void;
  /**
   * graphql-ws's `subscribe` option: graphql-js's `subscribe`, except that a shared operation's
   * events are executed once per share key and yielded as serialised results.
   */
  subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

/**
 * @param format - turns an execution result into what the client receives (error masking and codes);
 *   applied once per shared result, so it must not depend on the operation.
 */
export const createSharedExecution = (
  format: (result: ExecutionResult) => ExecutionResult,
): SharedExecution => {
  const keys = new WeakMap<ExecutionArgs, string>();
  // Held weakly by the event: the results go when the last subscriber has let go of the event.
  const results = new WeakMap<object, Map<string, Promise<SerialisedResult>>>();

  const serialised = async (args: ExecutionArgs, event: unknown): Promise<SerialisedResult> => {
    // As graphql-js's own subscribe: the event is the root value of one execution of the document.
    const payload = format(await execute({ ...args, rootValue: event }));
    return { [SERIALISED_PAYLOAD]: JSON.stringify(payload) };
  };

  const resultFor = (args: ExecutionArgs, key: string, event: unknown): Promise<SerialisedResult> => {
    if (typeof event !== "object" || event === null) return serialised(args, event);
    let byKey = results.get(event);
    if (byKey === undefined) {
      byKey = new Map();
      results.set(event, byKey);
    }
    let result = byKey.get(key);
    if (result === undefined) {
      result = serialised(args, event);
      byKey.set(key, result);
    }
    return result;
  };

  return {
    share: (args, key) => void keys.set(args, key),
    subscribe: async (args) => {
      const key = keys.get(args);
      if (key === undefined) return graphqlSubscribe(args);
      const source = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in source)) return source;
      return mapEvents(source, (event) => resultFor(args, key, event));
    },
  };
};

/**
 * The source stream with each event mapped, as graphql-js's (internal) mapAsyncIterator: a failed
 * mapping closes the source and rethrows; return() and throw() go to the source.
 */
const mapEvents = <T, R>(
  source: AsyncIterable<T>,
  map: (event: T) => Promise<R>,
): AsyncIterableIterator<R> & { return(): Promise<IteratorResult<R>> } => {
  const iterator = source[Symbol.asyncIterator]();
  const closeQuietly = async () => {
    try {
      await iterator.return?.();
    } catch {
      // The mapping's error is the one to report.
    }
  };
  const mapped = async (step: IteratorResult<T>): Promise<IteratorResult<R>> => {
    if (step.done) return { value: undefined, done: true };
    try {
      return { value: await map(step.value), done: false };
    } catch (error) {
      await closeQuietly();
      throw error;
    }
  };
  const done: IteratorResult<R> = { value: undefined, done: true };
  return {
    next: async () => mapped(await iterator.next()),
    return: async () => (iterator.return ? mapped(await iterator.return()) : done),
    throw: async (error?: unknown) => {
      if (iterator.throw) return mapped(await iterator.throw(error));
      await closeQuietly();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
};

/**
 * A socket's shared `next` messages. graphql-ws builds every message itself
 * (`stringifyMessage({ id, type: "next", payload })`, payload being what onNext returns); for a
 * shared result onNext returns a small stand-in payload instead, graphql-ws serialises that (cheap),
 * and the socket's `send` swaps the stand-in message for the real one — the shared payload with this
 * operation's id spliced in — so that the payload is never serialised per subscriber. The stand-in
 * message is computed as graphql-ws computes it (its own stringifyMessage, on `{ id, type, payload }`),
 * so it is the exact text graphql-ws sends; test/e2e/ws-shared-results.e2e.test.ts fails should a
 * graphql-ws upgrade ever build it differently (the stand-in would then reach the client).
 */
export interface NextFrames {
  /** The payload onNext returns for operation `id`'s shared result. */
  standIn(id: ID, payloadJson: string): ExecutionResult;
  /** What to send for a message graphql-ws sends: the real message if it is a stand-in, else itself. */
  resolve(message: string): string;
}

/** The stand-in payload's only field; not an ExecutionResult field, so never a real payload. */
const STAND_IN_FIELD = "vexSharedPayload";

export const createNextFrames = (): NextFrames => {
  // Stand-in message → real message. An entry lives from onNext to graphql-ws's send just after it.
  const pending = new Map<string, string>();
  let sequence = 0;
  return {
    standIn(id, payloadJson) {
      // Numbered so that two operations' stand-ins are never the same text, whatever their ids.
      const payload = { [STAND_IN_FIELD]: ++sequence } as ExecutionResult;
      const message = stringifyMessage<MessageType.Next>({ id, type: MessageType.Next, payload });
      pending.set(
        message,
        `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":${payloadJson}}`,
      );
      return payload;
    },
    resolve(message) {
      if (pending.size === 0) return message;
      const real = pending.get(message);
      if (real === undefined) return message;
      pending.delete(message);
      return real;
    },
  };
};
