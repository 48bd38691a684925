import { callApi } from "../lib/api";
import { byId } from "../lib/dom";
import { renderReference } from "../lib/openapi/reference";
import type { OpenApiDocument } from "../lib/openapi/types";
import { statusRegion } from "../lib/status";

const status = statusRegion(byId("reference-status"));
status.busy("Loading the OpenAPI document…");
callApi<OpenApiDocument>("/api/openapi.json")
  .then((result) => {
    renderReference(result.body, byId("reference"), byId("reference-toc"));
    const count = Object.values(result.body.paths).reduce((total, item) => total + Object.keys(item).length, 0);
    status.done(`${count} operations.`);
    // The anchor of a deep link exists only now.
    if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  })
  .catch((error) => status.fail(error));
