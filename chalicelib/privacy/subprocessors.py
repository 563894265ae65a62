"""The sub-processor list as published on 20 May 2026: every provider on the public page, in
English (authoritative) and French, and the integrations customers authorise themselves,
listed apart because they are not sub-processors.

This is the registry's starting point; every later change is a planned change recorded by
the operator's command (`python -m infra.subprocessors`), never an edit here.  The full legal
entity of each provider is named in the DPA; `legal_entity` holds a placeholder until the
DPA's wording is copied in."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.privacy.model import Category, Integration, SubProcessor, Words

# The date the list was published; the public page's "last updated" until a change applies.
SEED_DATE = datetime(2026, 5, 20, tzinfo=UTC)

SINGAPORE = Words("Singapore", "Singapour")
UNITED_STATES = Words("United States", "États-Unis")
TAIWAN = Words("Taiwan", "Taïwan")


def in_the_dpa(name: str) -> str:
    """The placeholder of a provider's legal entity until the DPA's name is copied in."""
    return f"{name} (full legal entity named in the DPA)"


def _provider(
    id: str,
    name: str,
    location: Words,
    purpose: Words,
    category: Category,
    processes_workspace_content: bool,
) -> SubProcessor:
    return SubProcessor(
        id=id,
        name=name,
        legal_entity=in_the_dpa(name),
        location=location,
        purpose=purpose,
        category=category,
        processes_workspace_content=processes_workspace_content,
    )


SEED: tuple[SubProcessor, ...] = (
    _provider(
        "vultr",
        "Vultr",
        SINGAPORE,
        Words(
            "Virtual-private-server compute and object storage for file attachments.",
            "Calcul sur serveurs privés virtuels et stockage objet des pièces jointes.",
        ),
        Category.HOSTING,
        True,
    ),
    _provider(
        "digitalocean",
        "DigitalOcean",
        SINGAPORE,
        Words("Virtual-private-server compute.", "Calcul sur serveurs privés virtuels."),
        Category.HOSTING,
        True,
    ),
    _provider(
        "neon",
        "Neon",
        SINGAPORE,
        Words(
            "Managed Postgres database holding Workspace content and account data; encrypted "
            "backups in the same region.",
            "Base de données Postgres gérée contenant le contenu des espaces de travail et les "
            "données des comptes ; sauvegardes chiffrées dans la même région.",
        ),
        Category.HOSTING,
        True,
    ),
    _provider(
        "upstash",
        "Upstash",
        SINGAPORE,
        Words(
            "Managed Redis cache for ephemeral state.",
            "Cache Redis géré pour les états éphémères.",
        ),
        Category.HOSTING,
        True,
    ),
    _provider(
        "cloudflare",
        "Cloudflare",
        Words("United States (global anycast edge)", "États-Unis (réseau anycast mondial)"),
        Words(
            "Content delivery network, DNS resolution, DDoS mitigation, TLS termination at the "
            "edge, bot protection (Turnstile), and custom-domain hosting for tenant-branded "
            "help centres and portals. Cloudflare does not retain Workspace content beyond what "
            "is required for in-flight TLS termination, edge caching of static assets, and "
            "security telemetry.",
            "Réseau de diffusion de contenu, résolution DNS, atténuation des attaques DDoS, "
            "terminaison TLS en périphérie, protection contre les robots (Turnstile) et "
            "hébergement des domaines personnalisés des centres d'aide et portails aux couleurs "
            "des clients. Cloudflare ne conserve pas le contenu des espaces de travail au-delà "
            "de ce qu'exigent la terminaison TLS en transit, la mise en cache des ressources "
            "statiques en périphérie et la télémétrie de sécurité.",
        ),
        Category.EDGE,
        True,
    ),
    _provider(
        "mailgun",
        "Mailgun",
        UNITED_STATES,
        Words(
            "Outbound transactional email delivery (agent replies, system notifications) and "
            "inbound email parsing for ticket creation. Inbound email may contain "
            "end-user-supplied personal data.",
            "Envoi des e-mails transactionnels (réponses des agents, notifications du système) "
            "et analyse des e-mails entrants pour créer les tickets. Les e-mails entrants "
            "peuvent contenir des données personnelles fournies par les utilisateurs finaux.",
        ),
        Category.EMAIL,
        True,
    ),
    _provider(
        "stripe",
        "Stripe",
        UNITED_STATES,
        Words(
            "Primary card processor; tokenises card details and processes recurring "
            "subscription charges.",
            "Processeur de cartes principal ; tokenise les données de carte et traite les "
            "prélèvements récurrents des abonnements.",
        ),
        Category.PAYMENTS,
        False,
    ),
    _provider(
        "tappay",
        "TapPay",
        TAIWAN,
        Words(
            "Secondary card processor used as a fallback when the primary processor cannot "
            "complete a charge; tokenises card details and processes recurring subscription "
            "charges.",
            "Processeur de cartes secondaire, utilisé en secours lorsque le processeur principal "
            "ne peut pas effectuer un prélèvement ; tokenise les données de carte et traite les "
            "prélèvements récurrents des abonnements.",
        ),
        Category.PAYMENTS,
        False,
    ),
    _provider(
        "paypal",
        "PayPal",
        UNITED_STATES,
        Words(
            "Processes recurring subscription charges via PayPal billing agreements for "
            "customers who pay with PayPal.",
            "Traite les prélèvements récurrents des abonnements par accord de facturation PayPal "
            "pour les clients qui paient avec PayPal.",
        ),
        Category.PAYMENTS,
        False,
    ),
    _provider(
        "anthropic",
        "Anthropic",
        UNITED_STATES,
        Words(
            "Claude language-model inference for drafting replies, answering from the knowledge "
            "base, classification, summarisation, and translation. Workspace content is not "
            "retained beyond what is needed for the inference request.",
            "Inférence du modèle de langage Claude pour rédiger des réponses, répondre à partir "
            "de la base de connaissances, classer, résumer et traduire. Le contenu des espaces "
            "de travail n'est pas conservé au-delà de ce qu'exige la requête d'inférence.",
        ),
        Category.AI,
        True,
    ),
    _provider(
        "openai",
        "OpenAI",
        UNITED_STATES,
        Words(
            "Text embeddings for semantic retrieval against your knowledge base and internal "
            "documents (Anthropic does not currently offer an embeddings product). API-level "
            "data retention is disabled.",
            "Plongements lexicaux (embeddings) pour la recherche sémantique dans votre base de "
            "connaissances et vos documents internes (Anthropic ne propose pas actuellement de "
            "produit d'embeddings). La conservation des données au niveau de l'API est "
            "désactivée.",
        ),
        Category.AI,
        True,
    ),
)


CATEGORY_TITLES: dict[Category, Words] = {
    Category.HOSTING: Words(
        "Cloud hosting, database, caching, and object storage",
        "Hébergement cloud, base de données, cache et stockage objet",
    ),
    Category.EDGE: Words(
        "Edge networking, DNS, and DDoS protection",
        "Réseau de périphérie, DNS et protection DDoS",
    ),
    Category.EMAIL: Words(
        "Email delivery and inbound parsing", "Envoi des e-mails et analyse des e-mails entrants"
    ),
    Category.PAYMENTS: Words("Payment processing", "Traitement des paiements"),
    Category.AI: Words(
        "AI inference and embeddings (opt-in)", "Inférence IA et embeddings (sur activation)"
    ),
}

# What the page says under a category's title, before its providers.
CATEGORY_NOTES: dict[Category, Words] = {
    Category.HOSTING: Words(
        "These providers host the application infrastructure that contains Workspace content. "
        "All processing is performed in Singapore.",
        "Ces prestataires hébergent l'infrastructure applicative qui contient le contenu des "
        "espaces de travail. Tout le traitement a lieu à Singapour.",
    ),
    Category.EDGE: Words("", ""),
    Category.EMAIL: Words("", ""),
    Category.PAYMENTS: Words(
        "Payment processors handle cardholder data on their own PCI-DSS compliant "
        "infrastructure. Helptal receives only a tokenised reference, the card brand, the last "
        "four digits, and the expiry date for display purposes.",
        "Les processeurs de paiement traitent les données des titulaires de carte sur leur "
        "propre infrastructure conforme à la norme PCI-DSS. Helptal ne reçoit qu'une référence "
        "tokenisée, la marque de la carte, ses quatre derniers chiffres et sa date d'expiration, "
        "à des fins d'affichage.",
    ),
    Category.AI: Words(
        "AI features (auto-tag, sentiment scoring, priority suggestion, translation, draft "
        "replies, knowledge-base answer bot, semantic retrieval over your help articles and "
        "internal docs) are opt-in at the workspace level. When enabled, Workspace content is "
        "routed to the providers below to perform inference or compute embeddings and return "
        "the result. Helptal does not use Workspace content to train AI models, and our AI "
        "sub-processors are contractually prohibited from training their own models on data we "
        "route to them.",
        "Les fonctions d'IA (étiquetage automatique, analyse du sentiment, suggestion de "
        "priorité, traduction, brouillons de réponse, robot de réponse de la base de "
        "connaissances, recherche sémantique dans vos articles d'aide et documents internes) "
        "s'activent au niveau de l'espace de travail. Une fois activées, le contenu de l'espace "
        "de travail est transmis aux prestataires ci-dessous pour l'inférence ou le calcul "
        "d'embeddings, qui renvoient le résultat. Helptal n'utilise pas le contenu des espaces "
        "de travail pour entraîner des modèles d'IA, et nos sous-traitants d'IA ont "
        "contractuellement interdiction d'entraîner leurs propres modèles sur les données que "
        "nous leur transmettons.",
    ),
}


INTEGRATIONS: tuple[Integration, ...] = (
    Integration(
        "google-calendar",
        "Google (Google Calendar)",
        UNITED_STATES,
        Words("Calendar and meetings.", "Agenda et réunions."),
    ),
    Integration(
        "microsoft-365-calendar",
        "Microsoft (Microsoft 365 Calendar)",
        UNITED_STATES,
        Words("Calendar and meetings.", "Agenda et réunions."),
    ),
    Integration(
        "zoom",
        "Zoom",
        UNITED_STATES,
        Words("Meeting links.", "Liens de réunion."),
    ),
    Integration(
        "hubspot",
        "HubSpot",
        UNITED_STATES,
        Words(
            "CRM: bidirectional sync of contact and ticket records via the provider's API.",
            "CRM : synchronisation bidirectionnelle des contacts et des tickets par l'API du "
            "fournisseur.",
        ),
    ),
    Integration(
        "salesforce",
        "Salesforce",
        UNITED_STATES,
        Words(
            "CRM: bidirectional sync of contact and ticket records via the provider's API.",
            "CRM : synchronisation bidirectionnelle des contacts et des tickets par l'API du "
            "fournisseur.",
        ),
    ),
    Integration(
        "slack",
        "Slack",
        UNITED_STATES,
        Words(
            "Notifications: ticket and chat events into a channel of your choice.",
            "Notifications : événements des tickets et du chat dans le canal de votre choix.",
        ),
    ),
    Integration(
        "microsoft-teams",
        "Microsoft Teams",
        UNITED_STATES,
        Words(
            "Notifications: ticket and chat events into a channel of your choice.",
            "Notifications : événements des tickets et du chat dans le canal de votre choix.",
        ),
    ),
    Integration(
        "outgoing-webhooks",
        "Webhooks",
        Words("Where the endpoint is", "Là où se trouve le point de terminaison"),
        Words(
            "Outgoing webhooks: POST a JSON payload to an HTTPS endpoint you operate or select.",
            "Webhooks sortants : envoi (POST) d'un contenu JSON à un point de terminaison HTTPS "
            "que vous exploitez ou choisissez.",
        ),
    ),
    Integration(
        "customer-sso",
        "SSO (SAML / OIDC)",
        Words("Where your identity provider is", "Là où se trouve votre fournisseur d'identité"),
        Words(
            "Customer SSO / federated identity: if your end users sign in through your identity "
            "provider (Google, Microsoft, Okta, SAML / OIDC), that provider is your "
            "relationship, not Helptal's sub-processor.",
            "SSO client / identité fédérée : si vos utilisateurs finaux se connectent par votre "
            "fournisseur d'identité (Google, Microsoft, Okta, SAML / OIDC), ce fournisseur "
            "relève de votre relation avec lui et n'est pas un sous-traitant de Helptal.",
        ),
    ),
)
