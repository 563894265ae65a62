// How the privacy screens name what the API sends them: the member who asked for something
// ("user:<id>" becomes their name) and a refusal (the API's own message).
import { get } from "../api.js";
import { errorMessage } from "../errors.js";
import { useEffect, useState } from "../html.js";
import { t } from "../i18n.js";

/** A refusal in words: the API's own message for what a person can fix (4xx), else the
 * app's words for a failure of the network or the service. */
export function apiProblem(failure) {
  const told = failure && failure.message && failure.message !== failure.code ? failure.message : "";
  if (failure && failure.status >= 400 && failure.status < 500 && told) return told;
  return errorMessage(failure);
}

/** The workspace's members by user id ({} until known; a failure leaves it empty). */
export function useMemberNames(wanted) {
  const [names, setNames] = useState({});
  useEffect(() => {
    if (!wanted) return undefined;
    let gone = false;
    get("/v1/members?limit=100").then(
      (page) => !gone && setNames(Object.fromEntries(page.members.map((m) => [m.id, m.name]))),
      () => {},
    );
    return () => {
      gone = true;
    };
  }, [wanted]);
  return names;
}

/** Who did something ("user:<id>" or "api_key:<id>"), in words. */
export function actorName(names, actor) {
  const text = String(actor || "");
  if (text.startsWith("user:")) return names[text.slice(5)] || t("privacy.by_former_member");
  if (text.startsWith("api_key:")) return t("privacy.by_api_key");
  return text;
}
