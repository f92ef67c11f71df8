import WebSocket from "ws";

/** A graphql-transport-ws frame as the server sends it. */
export interface Frame {
  readonly type: string;
  readonly id?: string;
  readonly payload?: unknown;
}

export interface RawSocket {
  readonly socket: WebSocket;
  /** Every frame received so far, in order (non-JSON frames are kept as { type: "<non-json>" }). */
  readonly frames: Frame[];
  /** Bytes of every frame received so far. */
  readonly receivedBytes: () => number;
  /** Resolves with the close code and reason once the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Resolves with the first frame (already received or future) that matches; rejects on close or timeout. */
  waitFor(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  close(): Promise<void>;
}

export interface RawOptions {
  /** Subprotocol to offer; null offers none. @default "graphql-transport-ws" */
  readonly protocol?: string | null;
  /** connection_init payload; false sends no connection_init. @default {} */
  readonly init?: Record<string, unknown> | false;
  /** Whether ws answers the server's pings by itself. @default true */
  readonly autoPong?: boolean;
}

/**
 * A raw graphql-transport-ws socket (the `ws` package, no graphql-ws client) for what the official
 * client will not do: oversized frames, no connection_init, a paused reader, garbage frames.
 * Resolves once the socket is open (and, when init is sent, acknowledged).
 */
export const openRaw = async (wsUrl: string, options: RawOptions = {}): Promise<RawSocket> => {
  const protocol = options.protocol === undefined ? "graphql-transport-ws" : options.protocol;
  const socket = new WebSocket(wsUrl, protocol === null ? [] : [protocol], {
    autoPong: options.autoPong ?? true,
  });
  const frames: Frame[] = [];
  let bytes = 0;
  const waiters = new Set<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }>();
  socket.on("message", (data: Buffer) => {
    bytes += data.length;
    let frame: Frame;
    try {
      frame = JSON.parse(String(data)) as Frame;
    } catch {
      frame = { type: "<non-json>" };
    }
    frames.push(frame);
    for (const w of waiters) {
      if (w.match(frame)) {
        waiters.delete(w);
        w.resolve(frame);
      }
    }
  });
  // A socket error (e.g. the server resets the connection) is followed by 'close'; nothing to do here.
  socket.on("error", () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );

  const waitFor = (match: (f: Frame) => boolean, timeoutMs = 5_000) => {
    const seen = frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Frame>((resolve, reject) => {
      const waiter = { match, resolve };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`));
      }, timeoutMs);
      waiters.add({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
      void closed.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`socket closed (${code}) before a matching frame arrived`));
      });
    });
  };

  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    void closed.then(({ code }) => reject(new Error(`closed (${code}) before opening`)));
  });
  const raw: RawSocket = {
    socket,
    frames,
    receivedBytes: () => bytes,
    closed,
    send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    waitFor,
    close: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
  if (options.init !== false) {
    raw.send({ type: "connection_init", payload: options.init ?? {} });
    await waitFor((f) => f.type === "connection_ack");
  }
  return raw;
};

/** A subscribe frame. */
export const subscribe = (id: string, query: string, variables?: Record<string, unknown>) => ({
  id,
  type: "subscribe",
  payload: { query, ...(variables ? { variables } : {}) },
});
