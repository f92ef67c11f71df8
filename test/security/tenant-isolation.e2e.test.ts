import { embeddedBackend } from "../support/backends.js";
import { tenantIsolationSuite } from "./tenant-isolation.suite.js";

/** Every root operation, probed across two tenants on the embedded store and the in-process bus. */
tenantIsolationSuite(embeddedBackend());
