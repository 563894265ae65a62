"""The language of a ticket is detected offline, and unknown rather than guessed when the text
says too little."""

import pytest

from chalicelib.ai.language import customer_locale, detect_language

MESSAGES = {
    "en": "Where is my order? It was due yesterday and the tracking page shows nothing.",
    "fr": "Bonjour, je n'arrive pas à me connecter à mon compte depuis hier soir.",
    "de": "Mir wurde diesen Monat doppelt abgebucht, bitte erstatten Sie den Betrag.",
    "es": "¿Dónde está mi pedido? Debía llegar ayer y todavía no tengo noticias.",
    "it": "Il mio pacco è arrivato danneggiato, posso avere un rimborso?",
    "nl": "Mijn pakket is beschadigd aangekomen, kan ik het terugsturen?",
    "pt": "Não consigo entrar na minha conta, podem ajudar-me por favor?",
    "ja": "注文はどこですか？昨日届く予定でした。",  # noqa: RUF001
}


@pytest.mark.parametrize("language", sorted(MESSAGES))
def test_support_messages_are_recognised_in_each_served_language(language):
    assert detect_language(MESSAGES[language]) == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Please cancel my subscription", "en"),
        ("Merci d'annuler mon abonnement", "fr"),
        ("Wie setze ich mein Passwort zurück?", "de"),
        ("Me cobraron dos veces este mes", "es"),
        ("Grazie, ora funziona!", "it"),
        ("Bedankt, het werkt nu!", "nl"),
        ("Obrigado, agora funciona!", "pt"),
        ("アカウントにログインできません", "ja"),
    ],
)
def test_short_messages_are_recognised(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "ok", "???", "12345 67890", "+33 6 12 34 56 78", "[e-mail]"])
def test_too_little_text_is_unknown(text):
    assert detect_language(text) is None


def test_a_language_outside_the_served_ones_is_unknown_rather_than_a_wrong_guess():
    assert detect_language("Здравствуйте, где мой заказ? Он должен был прийти вчера.") is None


def test_links_numbers_and_redaction_placeholders_do_not_sway_the_answer():
    text = (
        "Ma commande 100234567 n'est pas arrivée, voir https://shop.example.com/orders/100234567"
        " ; payée avec [card number] le 2024-01-15"
    )
    assert detect_language(text) == "fr"


def test_languages_can_be_narrowed_to_a_workspace_s_own():
    assert detect_language(MESSAGES["fr"], languages=("en", "fr")) == "fr"
    assert detect_language(MESSAGES["nl"], languages=("de", "nl")) == "nl"


@pytest.mark.parametrize(
    ("detected", "kept", "workspace", "expected"),
    [
        ("fr", "en", "en", "fr"),  # what they wrote in wins
        (None, "fr", "en", "fr"),  # too short to tell: what their contact keeps
        (None, None, "fr", "fr"),  # nothing known: the workspace's
        ("de", None, "fr", "fr"),  # a language we cannot write in is passed over
        (None, None, "ja", "en"),
    ],
)
def test_the_customer_is_written_to_in_the_first_language_known_and_served(
    detected, kept, workspace, expected
):
    assert customer_locale(detected, kept, workspace, ("en", "fr")) == expected
