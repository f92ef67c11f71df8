import { embeddedBackend } from "../support/backends.js";
import { budgetSuite } from "./budget.suite.js";

budgetSuite(embeddedBackend());
