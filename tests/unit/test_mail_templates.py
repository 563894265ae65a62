from chalicelib.mail.outbound import display_address, header_safe
from chalicelib.mail.templates import invitation_mail


def test_invitation_mail_in_english_carries_the_link_and_role():
    mail = invitation_mail(
        "en",
        inviter="Ann",
        workspace="Acme",
        role="agent",
        accept_url="https://app.helptal.test/join/hti_abc",
    )
    assert mail.subject == "Ann invited you to Acme on Helptal"
    assert "https://app.helptal.test/join/hti_abc" in mail.text
    assert 'href="https://app.helptal.test/join/hti_abc"' in mail.html
    assert "as an agent" in mail.text
    assert "7 days" in mail.text


def test_invitation_mail_in_french():
    mail = invitation_mail(
        "fr", inviter="Ann", workspace="Acme", role="admin", accept_url="https://x.test/join/t"
    )
    assert mail.subject == "Ann t'invite à rejoindre Acme sur Helptal"
    assert "Accepter l'invitation" in mail.text
    assert "7 jours" in mail.text


def test_unknown_locale_falls_back_to_english():
    assert invitation_mail(
        "de", inviter="A", workspace="B", role="agent", accept_url="u"
    ).subject.startswith("A invited you")


def test_names_are_escaped_in_html():
    mail = invitation_mail(
        "en",
        inviter="<script>alert(1)</script>",
        workspace="A&B",
        role="agent",
        accept_url="https://x.test/?a=1&b=2",
    )
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "A&amp;B" in mail.html
    assert 'href="https://x.test/?a=1&amp;b=2"' in mail.html


def test_header_values_cannot_inject_headers():
    assert header_safe("Hello\r\nBcc: victim@x.test") == "Hello Bcc: victim@x.test"
    assert (
        display_address('Eve"\r\nBcc: x@y.test', "noreply@mg.test")
        == '"Eve\' Bcc: x@y.test" <noreply@mg.test>'
    )
