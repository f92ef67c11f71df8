import { KeyControl } from "./components/common.js";
import { ApiKeyProvider } from "./hooks.js";
import { EvolutionPage } from "./pages/evolution.js";
import { HistoryPage } from "./pages/history.js";
import { ReviewsPage } from "./pages/reviews.js";
import { RunPage } from "./pages/run.js";
import { StartPage } from "./pages/start.js";
import { Link, usePath } from "./router.js";

const NAV = [
  { to: "/", label: "New run", match: (p: string) => p === "/" },
  { to: "/runs", label: "History", match: (p: string) => p.startsWith("/runs") },
  { to: "/reviews", label: "Reviews", match: (p: string) => p.startsWith("/reviews") },
  { to: "/evolution", label: "Evolution", match: (p: string) => p.startsWith("/evolution") },
] as const;

const Page = ({ path }: { path: string }) => {
  if (path === "/") return <StartPage />;
  if (path === "/runs" || path === "/runs/") return <HistoryPage />;
  const run = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (run?.[1]) return <RunPage key={run[1]} id={decodeURIComponent(run[1])} />;
  if (path === "/reviews" || path === "/reviews/") return <ReviewsPage />;
  if (path === "/evolution" || path === "/evolution/") return <EvolutionPage />;
  return (
    <section className="page page-narrow">
      <h1>Not found</h1>
      <p>
        Nothing at <code>{path}</code>. <Link to="/">Start a run</Link> or open the{" "}
        <Link to="/runs">history</Link>.
      </p>
    </section>
  );
};

export const App = () => {
  const path = usePath();
  return (
    <ApiKeyProvider>
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand-mark">◆</span> VEX <span className="brand-sub">live</span>
        </Link>
        <nav className="nav">
          {NAV.map((n) => (
            <Link
              key={n.to}
              to={n.to}
              className={n.match(path) ? "nav-link nav-on" : "nav-link"}
              testId={`nav-${n.label.toLowerCase().replace(" ", "-")}`}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        <span className="spacer" />
        <KeyControl />
      </header>
      <main>
        <Page path={path} />
      </main>
    </ApiKeyProvider>
  );
};
