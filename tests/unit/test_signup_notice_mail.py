from chalicelib.mail.templates import signup_with_existing_account_mail


def test_signup_notice_escapes_the_attempted_workspace_name_and_links_to_login():
    mail = signup_with_existing_account_mail(
        "en", workspace="<b>Evil</b> & Co", login_url="https://app.helptal.test/login"
    )
    assert "“<b>Evil</b> & Co”" in mail.text
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in mail.html and "<b>" not in mail.html
    assert '<a href="https://app.helptal.test/login">Log in to Helptal</a>' in mail.html


def test_signup_notice_falls_back_to_english_for_an_unknown_language():
    french = signup_with_existing_account_mail("fr", workspace="Acme", login_url="https://x/")
    other = signup_with_existing_account_mail("de", workspace="Acme", login_url="https://x/")
    assert french.subject.startswith("Quelqu'un a essayé")
    assert other.subject.startswith("Someone tried")
