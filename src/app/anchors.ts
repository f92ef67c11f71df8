import { createFileAnchor } from "../adapters/anchor/file-anchor.js";
import type { Config } from "../config.js";
import { UnreachableCaseError } from "../domain/errors.js";
import type { AnchorBackend } from "../ports/anchor.js";
import type { Clock } from "../ports/clock.js";
import { StartupError } from "./startup-error.js";

/** The anchors VEX_ANCHORS names; `mongo` needs the MongoDB backend, which passes its anchor in. */
export const openAnchors = (config: Config, clock: Clock, mongoAnchor?: () => AnchorBackend) =>
  config.provenance.anchors.map((name): AnchorBackend => {
    switch (name) {
      case "file":
        return createFileAnchor({ path: config.provenance.anchorFile, clock });
      case "mongo":
        if (!mongoAnchor) throw new StartupError("VEX_ANCHORS=mongo needs MONGODB_URI.");
        return mongoAnchor();
      default:
        throw new UnreachableCaseError(name);
    }
  });
