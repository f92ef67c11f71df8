import { embeddedBackend } from "../support/backends.js";
import { evolutionSuite } from "./evolution.suite.js";

evolutionSuite(embeddedBackend());
