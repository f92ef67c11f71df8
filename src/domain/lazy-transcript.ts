import type { Agent } from "./run.js";
import type { TranscriptEntry } from "./transcript.js";

/**
 * The agent with its transcript decoded on first read. A transcript (every prompt and answer of the
 * agent's calls) is most of an agent's stored bytes, and most reads — the run tree, lists of agents —
 * never look at it. The property stays enumerable, so equality, JSON and copies see an ordinary field
 * (a spread copy decodes it); `copyAgent` copies an agent without decoding it.
 */
export const withLazyTranscript = (
  agent: Omit<Agent, "transcript">,
  decode: () => readonly TranscriptEntry[],
): Agent =>
  Object.defineProperty(agent, "transcript", {
    enumerable: true,
    configurable: true,
    get(this: object) {
      const value = decode();
      // Decoded once per object: later reads find the value itself.
      Object.defineProperty(this, "transcript", {
        value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      return value;
    },
  }) as Agent;

/** A shallow copy that keeps a transcript not yet decoded undecoded (a spread would decode it). */
export const copyAgent = <A extends Agent>(agent: A): A => {
  const copy: Record<string, unknown> = {};
  for (const key in agent) if (key !== "transcript") copy[key] = agent[key];
  // The transcript as it is: its value, or the getter that decodes it.
  const transcript = Object.getOwnPropertyDescriptor(agent, "transcript");
  if (transcript !== undefined) Object.defineProperty(copy, "transcript", transcript);
  return copy as A;
};
