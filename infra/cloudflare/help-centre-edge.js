// Cloudflare Worker for tenants' help-centre domains (Cloudflare for SaaS custom hostnames).
//
// Route it on the SaaS zone with the pattern "*/*" so it runs for every custom hostname.
// It calls the Helptal API's own domain (API Gateway answers only the names it knows) and
// names the tenant's domain in X-Forwarded-Host, with the shared edge secret: the API trusts
// that header only when the secret matches (`help-centre-edge-secret` in Parameter Store).
//
// Worker settings: HELPTAL_ORIGIN = the API's domain (e.g. api.example.com), a variable;
// HELPTAL_EDGE_SECRET = the same value as `help-centre-edge-secret`, a secret.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const tenantHost = url.host;
    url.protocol = "https:";
    url.host = env.HELPTAL_ORIGIN;
    const upstream = new Request(url.toString(), request);
    upstream.headers.set("X-Forwarded-Host", tenantHost);
    upstream.headers.set("X-Forwarded-Proto", "https");
    upstream.headers.set("X-Helptal-Edge-Secret", env.HELPTAL_EDGE_SECRET);
    return fetch(upstream, { redirect: "manual" });
  },
};
