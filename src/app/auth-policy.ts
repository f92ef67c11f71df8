import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { ApiKeyStore } from "../ports/api-keys.js";
import { StartupError } from "./startup-error.js";

const LOOPBACK_HOSTS = new Set(["localhost", "::1", "[::1]"]);
export const isLoopback = (host: string): boolean =>
  LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);

/**
 * Whether requests without a key act as the default tenant. With auth disabled: always. Otherwise
 * only while no key exists and the server listens on loopback — loudly logged. A non-loopback
 * server without keys refuses to start.
 */
export const anonymousPolicy = async (
  config: Config,
  keys: ApiKeyStore,
  logger: Logger,
): Promise<() => Promise<boolean>> => {
  if (!config.authEnabled) {
    logger.warn('VEX_AUTH=disabled: every request acts as tenant "default" unless it presents a key.');
    return async () => true;
  }
  const loopback = isLoopback(config.host);
  if (!loopback && !(await keys.hasActiveKeys())) {
    throw new StartupError(
      `HOST=${config.host} is not a loopback address and no API key exists. Create one with \`vex keys create --tenant <id>\`, or set VEX_AUTH=disabled to serve without authentication.`,
    );
  }
  if (loopback && !(await keys.hasActiveKeys())) {
    logger.warn(
      'NO API KEYS EXIST: requests without a key act as tenant "default" (development default, loopback only). Create a key with `vex keys create --tenant <id>` to require authentication.',
    );
  }
  return async () => loopback && !(await keys.hasActiveKeys());
};
