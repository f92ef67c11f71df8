import { embeddedBackend } from "../support/backends.js";
import { provenanceSuite } from "./provenance.suite.js";

provenanceSuite(embeddedBackend());
