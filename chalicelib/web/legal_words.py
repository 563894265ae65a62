"""The words of the public legal pages (`/legal/subprocessors`, its changelog), in English
and French.

They are kept here, beside the registry's own texts (chalicelib/privacy/subprocessors.py),
rather than in the gettext catalogs: they are a legal text reviewed as a whole, the English
is authoritative (the French page says so), and French always says "vous" (a workspace's
informal choice does not apply to Helptal's own terms).  tests/unit/test_legal_words.py
checks that every text has both languages with the same placeholders."""

from __future__ import annotations

from chalicelib.privacy.model import CHANGELOG_MONTHS, NOTICE_DAYS, Words

LANGUAGES = {"en": "English", "fr": "Français"}

WORDS: dict[str, Words] = {
    "brand": Words("Helptal", "Helptal"),
    "language_switch": Words("Language", "Langue"),
    "skip": Words("Skip to the content", "Aller au contenu"),
    "title": Words("Sub-processors", "Sous-traitants"),
    "changelog_title": Words("Sub-processor changelog", "Historique des sous-traitants"),
    "last_updated": Words("Last updated:", "Dernière mise à jour :"),
    "translation_notice": Words(
        "",
        "Cette traduction est fournie à titre indicatif. La version anglaise fait "
        "juridiquement foi.",
    ),
    "english_version": Words("English version", "Version anglaise"),
    "intro": Words(
        'This page lists the third-party service providers ("sub-processors") that Helptal '
        "engages to process personal data on behalf of business customers using the Helptal "
        "Service. Each sub-processor is bound by a written contract requiring it to process "
        "data only on Helptal's instructions, to protect data with appropriate technical and "
        "organisational measures, and to assist Helptal with breach notification and "
        "data-subject requests.",
        "Cette page liste les prestataires tiers (« sous-traitants ») auxquels Helptal fait "
        "appel pour traiter des données personnelles pour le compte des clients professionnels "
        "qui utilisent le Service Helptal. Chaque sous-traitant est lié par un contrat écrit "
        "qui l'oblige à ne traiter les données que sur instruction de Helptal, à les protéger "
        "par des mesures techniques et organisationnelles appropriées, et à aider Helptal à "
        "notifier les violations de données et à répondre aux demandes des personnes "
        "concernées.",
    ),
    "intro_dpa": Words(
        "This list is incorporated into our Data Processing Addendum (DPA), which names the "
        "full legal entity for each provider. The DPA is available on request.",
        "Cette liste fait partie de notre avenant relatif au traitement des données (DPA), qui "
        "nomme l'entité juridique complète de chaque prestataire. Le DPA est disponible sur "
        "demande.",
    ),
    "where_title": Words(
        "Where personal data is stored", "Où les données personnelles sont stockées"
    ),
    "where": Words(
        "Workspace content (tickets, chats, knowledge-base articles, attachments, end-user "
        "profile data) is stored in Singapore. Email is processed by a provider in the United "
        "States. AI features, when enabled by a workspace administrator, route data to "
        "language-model and embeddings providers in the United States.",
        "Le contenu des espaces de travail (tickets, chats, articles de la base de "
        "connaissances, pièces jointes, données de profil des utilisateurs finaux) est stocké à "
        "Singapour. Les e-mails sont traités par un prestataire situé aux États-Unis. Les "
        "fonctions d'IA, lorsqu'un administrateur de l'espace de travail les active, "
        "transmettent des données à des prestataires de modèles de langage et d'embeddings "
        "situés aux États-Unis.",
    ),
    "notice_title": Words("Notice of changes", "Information sur les changements"),
    "notice": Words(
        "We will notify business customers at least thirty ({days}) days before adding or "
        "replacing a sub-processor that processes Workspace content, by email and / or "
        "in-product notice. If you reasonably object on data-protection grounds, you may "
        "terminate the affected Subscription as your sole remedy and we will refund prepaid "
        "fees for the unused portion of the term.",
        "Nous informerons les clients professionnels au moins trente ({days}) jours avant "
        "d'ajouter ou de remplacer un sous-traitant qui traite le contenu des espaces de "
        "travail, par e-mail et / ou par un avis dans le produit. Si vous vous y opposez pour "
        "des motifs raisonnables liés à la protection des données, vous pouvez résilier "
        "l'Abonnement concerné, ce qui constitue votre seul recours, et nous vous rembourserons "
        "les frais prépayés correspondant à la partie non utilisée de la période.",
    ),
    "upcoming_title": Words("Upcoming changes", "Changements à venir"),
    "upcoming_intro": Words(
        "These changes have been announced and take effect on the date shown.",
        "Ces changements ont été annoncés et prennent effet à la date indiquée.",
    ),
    "no_upcoming": Words("No change is planned.", "Aucun changement n'est prévu."),
    "takes_effect": Words("Takes effect on {date}", "Prend effet le {date}"),
    "took_effect": Words("In force since {date}", "En vigueur depuis le {date}"),
    "announced": Words("Announced on {date}", "Annoncé le {date}"),
    "leaves_on": Words("Leaves the list on {date}", "Quitte la liste le {date}"),
    "kind_add": Words("Addition", "Ajout"),
    "kind_replace": Words("Replacement", "Remplacement"),
    "kind_remove": Words("Removal", "Retrait"),
    "newcomer": Words("New sub-processor", "Nouveau sous-traitant"),
    "leaving": Words("Leaving the list", "Quittent la liste"),
    "location": Words("Location", "Lieu"),
    "purpose": Words("Purpose", "Finalité"),
    "category": Words("Category", "Catégorie"),
    "content": Words("Processes Workspace content", "Traite le contenu des espaces de travail"),
    "yes": Words("Yes", "Oui"),
    "no": Words("No", "Non"),
    "integrations_title": Words(
        "Customer-authorised integrations (not sub-processors)",
        "Intégrations autorisées par le client (pas des sous-traitants)",
    ),
    "integrations": Words(
        "Helptal supports optional third-party integrations that you, as the workspace "
        "administrator, can choose to enable. These providers are not sub-processors in the "
        "GDPR Article 28 sense. When you authorise a connection, personal data flows directly "
        "between Helptal and the provider under the provider's own terms, and you remain the "
        "controller of the data you choose to share. You can review and disconnect any "
        "integration from Settings → Integrations at any time.",
        "Helptal propose des intégrations tierces facultatives que vous, en tant "
        "qu'administrateur de l'espace de travail, pouvez choisir d'activer. Ces fournisseurs "
        "ne sont pas des sous-traitants au sens de l'article 28 du RGPD. Lorsque vous autorisez "
        "une connexion, les données personnelles circulent directement entre Helptal et le "
        "fournisseur selon les conditions propres à ce dernier, et vous restez responsable du "
        "traitement des données que vous choisissez de partager. Vous pouvez consulter et "
        "déconnecter toute intégration à tout moment depuis Paramètres → Intégrations.",
    ),
    "changelog_link_title": Words("Changelog", "Historique des changements"),
    "changelog_link_intro": Words(
        "We keep a changelog of additions, replacements, and removals for at least "
        "{months} months.",
        "Nous tenons un historique des ajouts, remplacements et retraits pendant au moins "
        "{months} mois.",
    ),
    "changelog_link": Words("See the changelog", "Consulter l'historique"),
    "subscribe_title": Words(
        "Advance notice of changes by email", "Être informé des changements par e-mail"
    ),
    "subscribe_intro": Words(
        "Register for advance notice of sub-processor changes. We will send you an email to "
        "confirm the address; every notice has a link to unsubscribe.",
        "Inscrivez-vous pour être informé à l'avance des changements de sous-traitants. Nous "
        "vous enverrons un e-mail pour confirmer l'adresse ; chaque avis contient un lien de "
        "désinscription.",
    ),
    "email": Words("Email address", "Adresse e-mail"),
    "notice_language": Words("Language of the notices", "Langue des avis"),
    "subscribe": Words("Subscribe", "S'inscrire"),
    "changelog_intro": Words(
        "Additions, replacements, and removals of Helptal's sub-processors, with the date "
        "each took effect. Entries are kept for at least {months} months.",
        "Ajouts, remplacements et retraits des sous-traitants de Helptal, avec la date à "
        "laquelle chacun a pris effet. Les entrées sont conservées au moins {months} mois.",
    ),
    "in_force_title": Words("Changes in force", "Changements en vigueur"),
    "no_changes": Words(
        "No change since the list was published on {date}.",
        "Aucun changement depuis la publication de la liste le {date}.",
    ),
    "published": Words(
        "{date}: the list as first published.", "{date} : la liste telle que publiée à l'origine."
    ),
    "back_to_list": Words("Back to the sub-processor list", "Retour à la liste des sous-traitants"),
    "and": Words("and", "et"),
}


def words(locale: str) -> dict[str, str]:
    """Every text of the legal pages in `locale` (English for any other), the notice and
    changelog periods filled in."""
    chosen = locale if locale in LANGUAGES else "en"
    return {
        key: getattr(text, chosen)
        .replace("{days}", str(NOTICE_DAYS))
        .replace("{months}", str(CHANGELOG_MONTHS))
        for key, text in WORDS.items()
    }


def joined(names: list[str], locale: str) -> str:
    """`Vultr, DigitalOcean and Neon` / `Vultr, DigitalOcean et Neon`."""
    if len(names) < 2:
        return "".join(names)
    last = words(locale)["and"]
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
