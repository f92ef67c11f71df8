import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import type { VexClient } from "../../client/index.js";
import { createPageClient, loadApiKey, storeApiKey } from "./api.js";

interface ApiKeyContextValue {
  readonly apiKey: string;
  setApiKey(key: string): void;
  /** The page's client for this key; replaced (and the old one closed) when the key changes. */
  readonly client: VexClient;
}

const ApiKeyContext = createContext<ApiKeyContextValue | null>(null);

/** The tab's API key, entered once and kept in sessionStorage, and the client that uses it. */
export const ApiKeyProvider = ({ children }: { children: ReactNode }) => {
  const [apiKey, setKey] = useState(loadApiKey);
  const setApiKey = useCallback((key: string) => {
    const trimmed = key.trim();
    storeApiKey(trimmed);
    setKey(trimmed);
  }, []);
  const client = useMemo(() => createPageClient(apiKey), [apiKey]);
  useEffect(() => () => void client.close(), [client]);
  const value = useMemo(() => ({ apiKey, setApiKey, client }), [apiKey, setApiKey, client]);
  return <ApiKeyContext.Provider value={value}>{children}</ApiKeyContext.Provider>;
};

export const useApiKey = (): ApiKeyContextValue => {
  const value = useContext(ApiKeyContext);
  if (value === null) throw new Error("useApiKey outside ApiKeyProvider");
  return value;
};

/** The page's client (for the tab's API key). */
export const useClient = (): VexClient => useApiKey().client;

export interface QueryState<R> {
  readonly data: R | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/**
 * Runs a query through the page's client, and again whenever the key, the variables (by value) or `reload()` change it.
 * Keeps the previous data while a reload is in flight.
 */
export const useQuery = <R, V>(
  document: TypedDocumentNode<R, V>,
  variables: V,
  skip = false,
): QueryState<R> => {
  const client = useClient();
  const [state, setState] = useState<{ data: R | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: !skip,
  });
  const [tick, setTick] = useState(0);
  const vars = JSON.stringify(variables);
  const varsRef = useRef(variables);
  varsRef.current = variables;
  // biome-ignore lint/correctness/useExhaustiveDependencies: vars is the variables' value; tick forces a reload
  useEffect(() => {
    if (skip) return;
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    client.requestWithSignal(document, varsRef.current, abort.signal).then(
      (data) => {
        if (!abort.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => abort.abort();
  }, [client, document, vars, tick, skip]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
};
