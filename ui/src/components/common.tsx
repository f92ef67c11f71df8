import { type FormEvent, useState } from "react";
import { describeError } from "../api.js";
import { useApiKey } from "../hooks.js";

/** A status or state as a coloured chip (RUNNING, SUCCEEDED, DEBATING, …). */
export const Chip = ({ value, testId }: { value: string; testId?: string }) => (
  <span className={`chip chip-${value.toLowerCase()}`} data-testid={testId}>
    {value}
  </span>
);

export const RoleBadge = ({ role }: { role: string }) => (
  <span className={`role role-${role.toLowerCase()}`}>{role}</span>
);

/** A value in [0,1] as a bar and a number. */
export const Meter = ({
  value,
  label,
  color,
}: {
  value: number | null | undefined;
  label?: string;
  color?: string | undefined;
}) => {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <span className="meter" title={label ? `${label}: ${value.toFixed(3)}` : value.toFixed(3)}>
      <span className="meter-track">
        <span
          className="meter-fill"
          style={color ? { width: `${pct}%`, background: color } : { width: `${pct}%` }}
        />
      </span>
      <span className="meter-value">{value.toFixed(2)}</span>
    </span>
  );
};

/** A hex hash in full (selectable, wraps) or shortened with the full value on hover. */
export const Hash = ({
  value,
  short,
  testId,
}: {
  value: string | null;
  short?: boolean;
  testId?: string;
}) => {
  if (!value) return <span className="muted">—</span>;
  return (
    <code className={short ? "hash hash-short" : "hash"} title={value} data-testid={testId}>
      {short ? `${value.slice(0, 10)}…${value.slice(-6)}` : value}
    </code>
  );
};

export const when = (iso: string | null | undefined): string => {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
};

/** The API key form: entered once, kept for the tab's session. */
export const KeyForm = ({ onDone, autoFocus }: { onDone?: () => void; autoFocus?: boolean }) => {
  const { apiKey, setApiKey } = useApiKey();
  const [draft, setDraft] = useState("");
  const save = (e: FormEvent) => {
    e.preventDefault();
    setApiKey(draft);
    setDraft("");
    onDone?.();
  };
  return (
    <form className="key-form" onSubmit={save}>
      <input
        type="password"
        name="apiKey"
        placeholder="vex_… API key"
        autoComplete="off"
        spellCheck={false}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        // biome-ignore lint/a11y/noAutofocus: the form opens on request; typing the key is the only thing to do
        autoFocus={autoFocus}
        data-testid="api-key-input"
        aria-label="API key"
      />
      <button
        type="submit"
        className="btn btn-primary"
        disabled={draft.trim() === ""}
        data-testid="api-key-save"
      >
        Use key
      </button>
      {apiKey && (
        <button
          type="button"
          className="btn"
          onClick={() => {
            setApiKey("");
            onDone?.();
          }}
        >
          Forget key
        </button>
      )}
    </form>
  );
};

/** An error as a person should read it, with the key form when a key would help. */
export const ErrorBanner = ({ error, onRetry }: { error: unknown; onRetry?: () => void }) => {
  if (error === undefined || error === null) return null;
  const view = describeError(error);
  return (
    <div className="banner banner-error" role="alert" data-testid="error" data-code={view.code}>
      <div className="banner-title">{view.title}</div>
      <div className="banner-message">{view.message}</div>
      {view.hint && <div className="banner-hint">{view.hint}</div>}
      {view.needsKey && <KeyForm autoFocus />}
      {onRetry && !view.needsKey && (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
};

/** The header's key control: shows whether a key is set and opens the form. */
export const KeyControl = () => {
  const { apiKey } = useApiKey();
  const [open, setOpen] = useState(false);
  return (
    <div className="key-control">
      <button
        type="button"
        className={apiKey ? "btn btn-key btn-key-set" : "btn btn-key"}
        onClick={() => setOpen((o) => !o)}
        data-testid="api-key-button"
        aria-expanded={open}
      >
        {apiKey ? `Key ${apiKey.slice(0, 8)}…` : "No API key"}
      </button>
      {open && (
        <div className="key-popover">
          <p className="muted small">
            Sent as <code>Authorization: Bearer</code> and on the WebSocket; kept only for this tab.
          </p>
          <KeyForm autoFocus onDone={() => setOpen(false)} />
        </div>
      )}
    </div>
  );
};
