"""Rendering canned responses: a fixed set of placeholders, plain substitution, one pass."""

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.tickets.canned import (
    PLACEHOLDERS,
    RenderContext,
    check_placeholders,
    placeholder_values,
    placeholders_in,
    render,
)


def _context(**changes):
    values = {
        "requester_name": "Carla Gomez",
        "requester_email": "carla@customer.test",
        "ticket_number": 42,
        "ticket_subject": "Printer on fire",
        "agent_name": "Bob Agent",
        "workspace_name": "Acme Support",
    }
    return RenderContext(**{**values, **changes})


def _render(body, locale="en", **changes):
    return render(body, placeholder_values(_context(**changes), locale))


def test_every_placeholder_renders_its_value():
    body = " | ".join("{{" + name + "}}" for name in PLACEHOLDERS)
    assert _render(body) == (
        "Carla | Carla Gomez | carla@customer.test | 42 | Printer on fire | Bob | Bob Agent"
        " | Acme Support"
    )


def test_spaces_inside_the_braces_are_allowed():
    assert _render("Hi {{ requester.first_name }}!") == "Hi Carla!"


def test_a_requester_without_a_name_is_greeted_as_there_in_english():
    # A contact without a name is shown by the start of their address: no name to greet by.
    assert _render("Hi {{requester.first_name}},", requester_name="carla") == "Hi there,"
    assert _render("Hi {{requester.first_name}},", requester_name="") == "Hi there,"


def test_a_requester_without_a_name_gets_no_word_in_french_and_no_stray_space():
    body = "Bonjour {{requester.first_name}},\nMerci {{requester.name}} !"
    assert _render(body, "fr", requester_name="carla") == "Bonjour,\nMerci !"


def test_an_empty_value_keeps_the_space_before_a_following_word():
    assert _render("Dear {{requester.name}}team", requester_name="") == "Dear team"


def test_values_are_inserted_as_text_and_never_expanded_again():
    sneaky = _context(
        requester_name="{{workspace.name}} {{agent.name}}",
        ticket_subject="{{requester.email}} {% for x in y %}{{ 7*7 }}",
    )
    rendered = render("{{requester.name}} / {{ticket.subject}}", placeholder_values(sneaky, "en"))
    assert (
        rendered
        == "{{workspace.name}} {{agent.name}} / {{requester.email}} {% for x in y %}{{ 7*7 }}"
    )


def test_text_that_is_not_a_placeholder_is_left_alone():
    body = "Use {curly} braces, {{ or even half of one, and <b>tags</b> & symbols."
    assert _render(body) == body


def test_unknown_placeholders_are_refused_naming_each_one():
    with pytest.raises(ValidationFailed) as refused:
        check_placeholders("Hi {{requester.first_name}} {{customer.name}} {{ 7*7 }} {{}}")
    assert refused.value.status == 422
    assert refused.value.details == [
        {"field": "body", "message": "unknown placeholders: {{customer.name}}, {{7*7}}, {{}}"}
    ]
    assert "{{customer.name}}" in refused.value.message


def test_known_placeholders_pass_the_check_and_are_listed_once_in_order():
    body = "{{ticket.number}} {{requester.name}} {{ ticket.number }}"
    check_placeholders(body)
    assert placeholders_in(body) == ["ticket.number", "requester.name"]


def test_a_single_word_agent_name_is_both_first_name_and_name():
    assert _render("{{agent.first_name}} / {{agent.name}}", agent_name="Acme  Support") == (
        "Acme / Acme Support"
    )
