// Starts Swagger UI on the API reference page (/docs). An external file, not an inline
// script, so that the page's Content-Security-Policy allows scripts from this site only.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    displayRequestDuration: true,
    filter: true,
    showExtensions: false,
    // The public validator badge would call a third-party site.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
