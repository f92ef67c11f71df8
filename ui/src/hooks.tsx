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
import { loadApiKey, request, storeApiKey } from "./api.js";

interface ApiKeyContextValue {
  readonly apiKey: string;
  setApiKey(key: string): void;
}

const ApiKeyContext = createContext<ApiKeyContextValue>({ apiKey: "", setApiKey: () => {} });

/** The tab's API key, entered once and kept in sessionStorage. */
export const ApiKeyProvider = ({ children }: { children: ReactNode }) => {
  const [apiKey, setKey] = useState(loadApiKey);
  const setApiKey = useCallback((key: string) => {
    const trimmed = key.trim();
    storeApiKey(trimmed);
    setKey(trimmed);
  }, []);
  const value = useMemo(() => ({ apiKey, setApiKey }), [apiKey, setApiKey]);
  return <ApiKeyContext.Provider value={value}>{children}</ApiKeyContext.Provider>;
};

export const useApiKey = () => useContext(ApiKeyContext);

export interface QueryState<R> {
  readonly data: R | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/**
 * Runs a query over HTTP and again whenever the key, the variables (by value) or `reload()` change it.
 * Keeps the previous data while a reload is in flight.
 */
export const useQuery = <R, V>(
  document: TypedDocumentNode<R, V>,
  variables: V,
  skip = false,
): QueryState<R> => {
  const { apiKey } = useApiKey();
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
    request(apiKey, document, varsRef.current, abort.signal).then(
      (data) => {
        if (!abort.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => abort.abort();
  }, [apiKey, document, vars, tick, skip]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
};
