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


def test_invitation_mail_in_french_says_vous_by_default():
    mail = invitation_mail(
        "fr", inviter="Ann", workspace="Acme", role="admin", accept_url="https://x.test/join/t"
    )
    assert mail.subject == "Ann vous invite à rejoindre Acme sur Helptal"
    assert "avec les droits d'administration." in mail.text
    assert "Accepter l'invitation" in mail.text
    assert "expire dans 7 jours." in mail.text
    assert "Si vous n'attendiez pas cet e-mail, vous pouvez l'ignorer." in mail.text


def test_invitation_mail_in_french_says_tu_for_an_informal_workspace():
    mail = invitation_mail(
        "fr",
        inviter="Ann",
        workspace="Acme",
        role="agent",
        accept_url="https://x.test/join/t",
        formality="informal",
    )
    assert mail.subject == "Ann t'invite à rejoindre Acme sur Helptal"
    assert "tu peux l'ignorer" in mail.text and "vous" not in mail.text


def test_french_elides_before_a_vowel_and_writes_no_inclusive_dots():
    texts = {
        role: invitation_mail("fr", inviter="A", workspace="B", role=role, accept_url="u").text
        for role in ("owner", "admin", "agent")
    }
    assert "en tant qu'agent." in texts["agent"]
    assert "en tant que propriétaire." in texts["owner"]
    assert not any("que a" in t or "·" in t for t in texts.values())


def test_the_link_lifetime_takes_the_plural_form_of_each_language():
    def expiry(locale, days):
        mail = invitation_mail(
            locale, inviter="A", workspace="B", role="agent", accept_url="u", days=days
        )
        return mail.text

    assert "expires in 1 day." in expiry("en", 1)
    assert "expires in 0 days." in expiry("en", 0)
    assert "expire dans 1 jour." in expiry("fr", 1)
    assert "expire dans 0 jour." in expiry("fr", 0)  # French: 0 and 1 are singular
    assert "expire dans 2 jours." in expiry("fr", 2)


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
