// What the person is told when a call fails: the API's error code, in their language.
import { t } from "./i18n.js";

const KNOWN = {
  invalid_credentials: "error.invalid_credentials",
  too_many_requests: "error.too_many_attempts",
  login_throttled: "error.too_many_attempts",
  invalid_two_factor_code: "error.invalid_two_factor_code",
  invalid_challenge: "error.invalid_challenge",
  weak_password: "error.weak_password",
  slug_taken: "error.slug_taken",
  invalid_slug: "error.slug_taken",
  no_workspace: "error.no_workspace",
  network_error: "error.network",
  service_unavailable: "error.unavailable",
  not_configured: "error.unavailable",
  csrf_failed: "error.reload",
};

export function errorMessage(error) {
  const id = KNOWN[error && error.code];
  if (id) return t(id);
  if (error && error.status === 422) return t("error.invalid_fields");
  if (error && error.status === 404) return t("error.not_found");
  return t("error.generic");
}

/** The fields a 422 names, e.g. {email: true}: the form marks them. */
export function invalidFields(error) {
  const fields = {};
  for (const detail of (error && error.details) || []) {
    fields[String(detail.field).split(".").pop()] = true;
  }
  return fields;
}
