// Starts Swagger UI on /docs. A file of its own (not an inline script) so the page's CSP can say
// script-src 'self' and nothing more. "Try it out" goes to the gateway that served this page:
// PUBLIC_URL in the document may name another address (a proxy, localhost), which the page's
// connect-src 'self' would refuse and CORS might too.
"use strict";
window.addEventListener("load", function () {
  fetch("/openapi.json", { headers: { accept: "application/json" } })
    .then(function (res) {
      if (!res.ok) throw new Error("GET /openapi.json answered " + res.status);
      return res.json();
    })
    .then(function (spec) {
      var here = window.location.origin;
      var others = (spec.servers || []).filter(function (s) {
        return s.url !== here;
      });
      spec.servers = [{ url: here, description: "this gateway" }].concat(others);
      window.ui = SwaggerUIBundle({
        spec: spec,
        dom_id: "#swagger-ui",
        deepLinking: true,
        // API keys stay in this tab's memory, never in localStorage
        persistAuthorization: false,
        // no calls to the public validator: the docs work offline
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
      });
    })
    .catch(function (err) {
      var box = document.getElementById("swagger-ui");
      box.textContent = "The API description could not be loaded (" + err.message + "). It is at /openapi.json.";
    });
});
