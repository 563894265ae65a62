"""Words of the public pages, per locale, and picking the visitor's language."""

from __future__ import annotations

SUPPORTED = ("en", "fr")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "join.title": "Join {workspace} on Helptal",
        "join.intro": "{workspace} invited {email} to its support team as {role}.",
        "join.name": "Your name",
        "join.password": "Choose a password",
        "join.password_existing": "Your Helptal password",
        "join.password_hint": "At least 10 characters; not your e-mail address nor a common "
        "password.",
        "join.existing_hint": "This e-mail already has a Helptal account: enter its password.",
        "join.submit": "Join the team",
        "join.done_title": "Welcome to {workspace}",
        "join.done": "You are now a member of {workspace}. Log in to Helptal to start.",
        "join.login": "Log in",
        "join.invalid_title": "This invitation cannot be used",
        "join.ask": "Ask a workspace admin to send you a new invitation.",
        "role.owner": "an owner",
        "role.admin": "an admin",
        "role.agent": "an agent",
        "error.title": "Please check the form",
        "reason.invitation_not_found": "This invitation link is not valid.",
        "reason.invitation_used": "This invitation was already used.",
        "reason.invitation_revoked": "This invitation was revoked.",
        "reason.invitation_expired": "This invitation has expired.",
        "reason.already_member": "You are already a member of this workspace.",
        "reason.weak_password": "The password needs at least 10 characters and must not be "
        "your e-mail address.",
        "reason.invalid_credentials": "That is not the password of this account.",
        "reason.login_throttled": "Too many wrong passwords for this account. Try again later.",
        "reason.name_required": "Please enter your name.",
        "password.too_short": "The password needs at least 10 characters.",
        "password.too_long": "The password can have at most 256 characters.",
        "password.blank": "The password cannot be only spaces.",
        "password.control_characters": "The password cannot contain control characters.",
        "password.email": "The password cannot be your e-mail address.",
        "password.common": "This password is one of the most common ones, and the first that "
        "attackers try: choose another.",
        "reason.unknown": "Something is not right with this request.",
        "hc.search": "Search",
        "hc.search_placeholder": "Search the help centre",
        "hc.welcome": "How can {name} help?",
        "hc.home": "Help centre",
        "hc.empty": "No articles here yet.",
        "hc.other_articles": "Other articles",
        "hc.updated": "Updated",
        "hc.helpful": "Was this article helpful?",
        "hc.yes": "Yes",
        "hc.no": "No",
        "hc.thanks": "Thanks for your feedback!",
        "hc.results": "Results for “{query}”",
        "hc.no_results": "No article matches. Try other words, or contact us.",
        "hc.not_found": "Page not found",
        "hc.not_found_hint": "The page you are looking for does not exist or has moved.",
        "hc.language": "English",
    },
    "fr": {
        "join.title": "Rejoindre {workspace} sur Helptal",
        "join.intro": "{workspace} invite {email} à rejoindre son équipe support en tant que "
        "{role}.",
        "join.name": "Ton nom",
        "join.password": "Choisis un mot de passe",
        "join.password_existing": "Ton mot de passe Helptal",
        "join.password_hint": "Au moins 10 caractères ; ni ton adresse e-mail ni un mot de passe "
        "courant.",
        "join.existing_hint": "Cette adresse a déjà un compte Helptal : saisis son mot de passe.",
        "join.submit": "Rejoindre l'équipe",
        "join.done_title": "Bienvenue chez {workspace}",
        "join.done": "Tu fais maintenant partie de {workspace}. Connecte-toi à Helptal pour "
        "commencer.",
        "join.login": "Se connecter",
        "join.invalid_title": "Cette invitation n'est pas utilisable",
        "join.ask": "Demande à un administrateur de l'espace de t'envoyer une nouvelle invitation.",
        "role.owner": "propriétaire",
        "role.admin": "administrateur·rice",
        "role.agent": "agent",
        "error.title": "Vérifie le formulaire",
        "reason.invitation_not_found": "Ce lien d'invitation n'est pas valide.",
        "reason.invitation_used": "Cette invitation a déjà été utilisée.",
        "reason.invitation_revoked": "Cette invitation a été annulée.",
        "reason.invitation_expired": "Cette invitation a expiré.",
        "reason.already_member": "Tu fais déjà partie de cet espace.",
        "reason.weak_password": "Le mot de passe doit faire au moins 10 caractères et être "
        "différent de ton adresse e-mail.",
        "reason.invalid_credentials": "Ce n'est pas le mot de passe de ce compte.",
        "reason.login_throttled": "Trop de mots de passe erronés pour ce compte. Réessaie plus "
        "tard.",
        "reason.name_required": "Indique ton nom.",
        "password.too_short": "Le mot de passe doit faire au moins 10 caractères.",
        "password.too_long": "Le mot de passe peut faire au plus 256 caractères.",
        "password.blank": "Le mot de passe ne peut pas être fait que d'espaces.",
        "password.control_characters": "Le mot de passe ne peut pas contenir de caractères de "
        "contrôle.",
        "password.email": "Le mot de passe ne peut pas être ton adresse e-mail.",
        "password.common": "Ce mot de passe fait partie des plus courants, les premiers "
        "qu'essaient les attaquants : choisis-en un autre.",
        "reason.unknown": "Quelque chose ne va pas avec cette demande.",
        "hc.search": "Rechercher",
        "hc.search_placeholder": "Rechercher dans le centre d'aide",
        "hc.welcome": "Comment {name} peut-il t'aider ?",
        "hc.home": "Centre d'aide",
        "hc.empty": "Pas encore d'articles ici.",
        "hc.other_articles": "Autres articles",
        "hc.updated": "Mis à jour le",
        "hc.helpful": "Cet article t'a-t-il été utile ?",
        "hc.yes": "Oui",
        "hc.no": "Non",
        "hc.thanks": "Merci pour ton avis !",
        "hc.results": "Résultats pour « {query} »",
        "hc.no_results": "Aucun article ne correspond. Essaie d'autres mots, ou contacte-nous.",
        "hc.not_found": "Page introuvable",
        "hc.not_found_hint": "La page que tu cherches n'existe pas ou a été déplacée.",
        "hc.language": "Français",
    },
}


def pick_locale(requested: str | None, accept_language: str | None, default: str) -> str:
    """`?lang=` first, then the browser's Accept-Language, then the workspace's language."""
    if requested in SUPPORTED:
        return str(requested)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in SUPPORTED:
            return tag
    return default if default in SUPPORTED else "en"


def translator(locale: str) -> dict[str, str]:
    return MESSAGES.get(locale, MESSAGES["en"])


def reason(t: dict[str, str], code: str) -> str:
    """The visitor-facing sentence for an error code."""
    return t.get(f"reason.{code}", t["reason.unknown"])
