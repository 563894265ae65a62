"""The words of the sub-processor change notices, their subscription mails and pages, in
English and French ("vous"; both checked by tests/unit/test_subprocessor_notice_mails.py).
They sit here, beside the mails that use them, as billing's do, until they move into the
gettext catalogs."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "greeting.anonymous": "Hello,",
        "signature": "The Helptal team",
        # the notice
        "notice.subject": "Helptal's sub-processors change on {date}",
        "notice.intro": "Helptal will change the list of sub-processors that process personal "
        "data for its customers on {date} ({days} days from now):",
        "notice.added": "New sub-processor: {provider}",
        "notice.replaces": "It replaces: {names}.",
        "notice.removed": "Leaving the list: {names}.",
        "notice.content": "{name} will process Workspace content (tickets, chats, "
        "knowledge-base articles, attachments, end-user profile data).",
        "notice.no_content": "{name} will not process Workspace content.",
        "notice.list": "The current list, the upcoming changes and the changelog:",
        "notice.objection": "If you object to this change on reasonable data-protection "
        "grounds, an owner of your workspace can say so before {date} in Settings > Privacy. "
        "You may then terminate the affected subscription, and we refund the prepaid fees "
        "for the unused part of its term:",
        "notice.why_member": "You receive this notice as an owner or admin of a Helptal workspace.",
        "notice.why_subscriber": "You receive this notice because this address is subscribed "
        "to Helptal's sub-processor change notices. To stop receiving them:",
        "link.list": "Sub-processors",
        "link.objection": "Settings > Privacy",
        "link.unsubscribe": "Unsubscribe",
        # the confirmation mail
        "confirm.subject": "Confirm your subscription to Helptal's sub-processor notices",
        "confirm.intro": "Someone, probably you, asked for this address to receive an e-mail "
        "whenever Helptal plans a change to its sub-processors (at least 30 days before a "
        "change that processes Workspace content).",
        "confirm.cta": "To confirm, open this link and press the button on the page (it works "
        "for {days} days):",
        "confirm.ignore": "If you did not ask for this, ignore this mail: this address will "
        "not be subscribed.",
        "link.confirm": "Confirm the subscription",
        # the pages
        "page.sent_title": "Check your mail",
        "page.sent": "Unless this address is subscribed already, a message with a confirmation "
        "link is on its way to it. The subscription starts once you confirm it.",
        "page.sent_hint": "Nothing arrived after a few minutes? Look in your spam folder, or "
        "subscribe again later.",
        "page.invalid_address_title": "Check the address",
        "page.invalid_address": "That does not look like an e-mail address.",
        "page.too_many_title": "Too many requests",
        "page.too_many": "Too many subscription requests came from your network. Please try "
        "again in an hour.",
        "page.confirm_title": "Confirm your subscription",
        "page.confirm": "Press the button to receive an e-mail at this address whenever "
        "Helptal plans a change to its sub-processors.",
        "page.confirm_button": "Confirm",
        "page.confirmed_title": "You are subscribed",
        "page.confirmed": "You will receive an e-mail whenever Helptal plans a change to its "
        "sub-processors. Every notice has a link to unsubscribe.",
        "page.unsubscribe_title": "Unsubscribe from sub-processor notices",
        "page.unsubscribe": "Press the button to stop receiving Helptal's sub-processor change "
        "notices at this address.",
        "page.unsubscribe_button": "Unsubscribe",
        "page.unsubscribed_title": "You are unsubscribed",
        "page.unsubscribed": "This address will receive no more sub-processor change notices. "
        "You can subscribe again at any time from the sub-processor page.",
        "page.invalid_title": "This link does not work",
        "page.invalid": "It may have expired, or a newer confirmation mail replaced it. You "
        "can subscribe again from the sub-processor page.",
        "page.back": "See the sub-processors",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting.anonymous": "Bonjour,",
        "signature": "L'équipe Helptal",
        "notice.subject": "Les sous-traitants de Helptal changent le {date}",
        "notice.intro": "Le {date} (dans {days} jours), Helptal modifiera la liste des "
        "sous-traitants qui traitent des données personnelles pour ses clients :",
        "notice.added": "Nouveau sous-traitant : {provider}",
        "notice.replaces": "Il remplace : {names}.",
        "notice.removed": "Quitte la liste : {names}.",
        "notice.content": "{name} traitera le contenu des espaces de travail (tickets, "
        "conversations, articles de la base de connaissances, pièces jointes, données des "
        "profils des utilisateurs finaux).",
        "notice.no_content": "{name} ne traitera pas le contenu des espaces de travail.",
        "notice.list": "La liste actuelle, les changements à venir et leur historique :",
        "notice.objection": "Si vous vous opposez à ce changement pour des motifs raisonnables "
        "liés à la protection des données, un propriétaire de votre espace de travail peut le "
        "signaler avant le {date} dans Paramètres > Confidentialité. Vous pourrez alors "
        "résilier l'abonnement concerné, et nous rembourserons les frais prépayés pour la "
        "partie non utilisée de sa durée :",
        "notice.why_member": "Vous recevez cet avis en tant que propriétaire ou administrateur "
        "d'un espace de travail Helptal.",
        "notice.why_subscriber": "Vous recevez cet avis car cette adresse est abonnée aux avis "
        "de changement des sous-traitants de Helptal. Pour ne plus les recevoir :",
        "link.list": "Sous-traitants",
        "link.objection": "Paramètres > Confidentialité",
        "link.unsubscribe": "Se désabonner",
        "confirm.subject": "Confirmez votre abonnement aux avis sur les sous-traitants de Helptal",
        "confirm.intro": "Quelqu'un, probablement vous, a demandé que cette adresse reçoive un "
        "e-mail chaque fois que Helptal prévoit un changement de ses sous-traitants (au moins "
        "30 jours avant un changement qui concerne le contenu des espaces de travail).",
        "confirm.cta": "Pour confirmer, ouvrez ce lien puis appuyez sur le bouton de la page "
        "(il est valable {days} jours) :",
        "confirm.ignore": "Si vous n'avez rien demandé, ignorez cet e-mail : cette adresse ne "
        "sera pas abonnée.",
        "link.confirm": "Confirmer l'abonnement",
        "page.sent_title": "Consultez votre messagerie",
        "page.sent": "Sauf si cette adresse est déjà abonnée, un message contenant un lien de "
        "confirmation lui a été envoyé. L'abonnement commence dès que vous le confirmez.",
        "page.sent_hint": "Rien reçu après quelques minutes ? Regardez dans vos courriers "
        "indésirables, ou abonnez-vous de nouveau plus tard.",
        "page.invalid_address_title": "Vérifiez l'adresse",
        "page.invalid_address": "Cette adresse e-mail ne semble pas valide.",
        "page.too_many_title": "Trop de demandes",
        "page.too_many": "Trop de demandes d'abonnement proviennent de votre réseau. Merci de "
        "réessayer dans une heure.",
        "page.confirm_title": "Confirmez votre abonnement",
        "page.confirm": "Appuyez sur le bouton pour recevoir un e-mail à cette adresse chaque "
        "fois que Helptal prévoit un changement de ses sous-traitants.",
        "page.confirm_button": "Confirmer",
        "page.confirmed_title": "Votre abonnement est confirmé",
        "page.confirmed": "Vous recevrez un e-mail chaque fois que Helptal prévoit un "
        "changement de ses sous-traitants. Chaque avis contient un lien pour vous désabonner.",
        "page.unsubscribe_title": "Se désabonner des avis sur les sous-traitants",
        "page.unsubscribe": "Appuyez sur le bouton pour ne plus recevoir à cette adresse les "
        "avis de changement des sous-traitants de Helptal.",
        "page.unsubscribe_button": "Se désabonner",
        "page.unsubscribed_title": "Votre désabonnement est enregistré",
        "page.unsubscribed": "Cette adresse ne recevra plus d'avis de changement des "
        "sous-traitants. Vous pouvez vous abonner de nouveau à tout moment depuis la page des "
        "sous-traitants.",
        "page.invalid_title": "Ce lien ne fonctionne pas",
        "page.invalid": "Il a peut-être expiré, ou un e-mail de confirmation plus récent l'a "
        "remplacé. Vous pouvez vous abonner de nouveau depuis la page des sous-traitants.",
        "page.back": "Voir les sous-traitants",
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS[lang if lang in WORDS else "en"]
