"""Card numbers, and on request e-mail addresses and phone numbers, never leave for an AI
provider; dates, amounts and order numbers stay readable."""

import pytest

from chalicelib.ai.redaction import luhn_valid, redact


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555 5555 5555 4444",
        "2223 0031 2200 3222",
        "3782 822463 10005",
        "6011 1111 1111 1117",
        "4222222222222",
        "6250 9410 0652 8599",
    ],
)
def test_valid_card_numbers_are_replaced_whatever_the_format(card):
    redacted = redact(f"Please charge {card}, thanks.")
    assert redacted.text == "Please charge [card number], thanks."
    assert redacted.counts == {"card_number": 1}


@pytest.mark.parametrize(
    "number",
    [
        "4111 1111 1111 1112",  # fails Luhn
        "4111-1111-1111-1110",
        "1234567812345670",  # passes Luhn but no card starts with 1
        "4000123412341234567",  # 19 digits, fails Luhn
        "41111111111111111111",  # 20 digits
        "4111 1111-1111 1111",  # mixed separators
    ],
)
def test_numbers_that_are_not_cards_are_kept(number):
    assert redact(f"order {number}").text == f"order {number}"


def test_a_card_at_the_end_of_a_sentence_and_several_cards_are_all_counted():
    redacted = redact("Old card 4111111111111111. New card: 5555-5555-5555-4444")
    assert redacted.text == "Old card [card number]. New card: [card number]"
    assert redacted.counts == {"card_number": 2}


@pytest.mark.parametrize(
    "text",
    [
        "Ordered on 2024-01-15 at 14:05, delivered 15/01/2024 or 15.01.2024",
        "Total 1 234,56 EUR, refund $1,234.56 or 1.234.567,89",
        "Order #100234567, ref 2024-001234, invoice INV-4111111111111111",
        "Version 1.2.3.4 on 192.168.0.1, tracking 1Z999AA10123456784",
        "Quantity 12, room 0612",
    ],
)
def test_dates_amounts_and_order_numbers_are_not_mangled(text):
    assert redact(text, emails=True, phones=True).text == text


def test_emails_and_phones_are_kept_unless_asked():
    text = "Reach me at jo.doe@example.com or +33 6 12 34 56 78"
    assert redact(text).text == text


def test_email_addresses_are_replaced_when_asked():
    redacted = redact("From jo.doe+billing@mail.example.co.uk (cc ann@acme.io).", emails=True)
    assert redacted.text == "From [e-mail] (cc [e-mail])."
    assert redacted.counts == {"email": 2}


@pytest.mark.parametrize(
    "phone",
    [
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "06 12 34 56 78",
        "01.23.45.67.89",
        "06-12-34-56-78",
        "0612345678",
        "+44 (0)20 7946 0958",
        "020 7946 0958",
        "07700 900123",
        "+1-415-555-0100",
        "(415) 555-0100",
        "415.555.0100",
        "+49 30 901820",
    ],
)
def test_phone_numbers_are_replaced_when_asked(phone):
    redacted = redact(f"Call me on {phone}, after 5pm.", phones=True)
    assert redacted.text == "Call me on [phone], after 5pm."
    assert redacted.counts == {"phone": 1}


def test_cards_are_redacted_before_phones_so_a_card_is_never_counted_as_a_phone():
    redacted = redact("4111 1111 1111 1111 / +33 6 12 34 56 78", emails=True, phones=True)
    assert redacted.text == "[card number] / [phone]"
    assert redacted.counts == {"card_number": 1, "phone": 1}


def test_luhn_checksum():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
