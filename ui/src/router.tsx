import { type MouseEvent, type ReactNode, useEffect, useState } from "react";

/** The page's base path (Vite's `base`, "/ui/"), without its trailing slash. */
export const BASE = import.meta.env.BASE_URL.replace(/\/$/, "");

const NAVIGATE = "vex:navigate";

/** Goes to a path inside the app ("/runs/…"), pushing a history entry. */
export const navigate = (to: string): void => {
  window.history.pushState(null, "", BASE + to);
  window.dispatchEvent(new Event(NAVIGATE));
  window.scrollTo(0, 0);
};

const currentPath = (): string => {
  const path = window.location.pathname;
  const inside = path.startsWith(BASE) ? path.slice(BASE.length) : path;
  return inside === "" ? "/" : inside;
};

/** The path inside the app, updated on navigation and on back/forward. */
export const usePath = (): string => {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener("popstate", update);
    window.addEventListener(NAVIGATE, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(NAVIGATE, update);
    };
  }, []);
  return path;
};

/** A link inside the app: a real href (open in new tab works), client-side navigation on a plain click. */
export const Link = ({
  to,
  children,
  className,
  testId,
}: {
  to: string;
  children: ReactNode;
  className?: string;
  testId?: string;
}) => {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={BASE + to} onClick={onClick} className={className} data-testid={testId}>
      {children}
    </a>
  );
};
