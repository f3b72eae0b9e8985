// The interactive API reference at /docs: Swagger UI from its npm package over this origin's /openapi.json.
import SwaggerUIBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import "swagger-ui-dist/swagger-ui.css";
import "./docs.css";

SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger", deepLinking: true });
