import type { BusSubscription } from "../../ports/event-bus.js";

/** Undelivered messages one subscriber may hold before its oldest are dropped. @default 10,000 */
export const DEFAULT_SUBSCRIBER_BUFFER = 10_000;

/** A subscription's delivery end: the bus pushes into it, the subscriber iterates it. */
export interface SubscriptionQueue<T> {
  push(message: T): void;
  /** Ends the iteration (e.g. when the bus closes). */
  end(): void;
  readonly subscription: BusSubscription<T>;
  /** Messages dropped because the subscriber fell behind by more than the buffer. */
  dropped(): number;
}

/**
 * An eager, bounded queue behind one subscription. Messages pushed before the subscriber first
 * calls next() are kept (graphql-yoga's Repeaters register lazily and would lose them). When the
 * buffer is full the oldest message is dropped — subscribers of run events notice the seq gap and
 * read it back from the log. return() or end() detaches it via `onClose`.
 */
export const createSubscriptionQueue = <T>(options: {
  ready: Promise<void>;
  onClose: () => void;
  buffer?: number;
}): SubscriptionQueue<T> => {
  const limit = options.buffer ?? DEFAULT_SUBSCRIBER_BUFFER;
  const buffered: T[] = [];
  let waiting: ((r: IteratorResult<T>) => void) | undefined;
  let closed = false;
  let droppedCount = 0;

  const close = () => {
    if (closed) return;
    closed = true;
    buffered.length = 0;
    options.onClose();
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
  };

  const subscription: BusSubscription<T> = {
    ready: options.ready,
    next: () => {
      const head = buffered.shift();
      if (head !== undefined) return Promise.resolve({ value: head, done: false });
      if (closed) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return: () => {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  return {
    subscription,
    push(message) {
      if (closed) return;
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve({ value: message, done: false });
        return;
      }
      buffered.push(message);
      if (buffered.length > limit) {
        buffered.shift();
        droppedCount++;
      }
    },
    end: close,
    dropped: () => droppedCount,
  };
};
