"""The Mailgun storage adapter against the fake Mailgun: what is fetched, retried or refused."""

import pytest

from chalicelib.errors import ProviderUnavailable
from chalicelib.mail.inbound.stored import StoredMessageRefused
from chalicelib.providers.mailgun_storage import MailgunStorage

MAX_BYTES = 29 * 1024 * 1024
RECIPIENT = "acme-support@in.helptal.test"
RAW = (
    b"From: Zo\xc3\xa9 <zoe@client.test>\r\nTo: acme-support@in.helptal.test\r\n"
    b"Subject: =?utf-8?q?Probl=C3=A8me?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    b"\r\nJe n'arrive pas \xe0 me connecter.\r\n"
)


@pytest.fixture()
def mailgun(fake_mailgun_server):
    fake_mailgun_server.reset()
    return fake_mailgun_server


def _storage(mailgun, **kwargs):
    return MailgunStorage(mailgun.url, mailgun.api_key, **kwargs)


def test_the_stored_message_comes_back_byte_for_byte(mailgun):
    url = mailgun.store(RAW, recipient=RECIPIENT)
    assert _storage(mailgun).fetch(url, MAX_BYTES) == RAW


def test_an_expired_message_is_refused_as_gone(mailgun):
    url = mailgun.store(RAW, recipient=RECIPIENT)
    mailgun.expire(url)
    with pytest.raises(StoredMessageRefused) as refused:
        _storage(mailgun).fetch(url, MAX_BYTES)
    assert refused.value.reason == "stored_message_gone"


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_throttling_and_server_errors_are_worth_retrying(mailgun, status):
    url = mailgun.store(RAW, recipient=RECIPIENT)
    mailgun.fail_next_fetch(status)
    with pytest.raises(ProviderUnavailable):
        _storage(mailgun).fetch(url, MAX_BYTES)
    assert _storage(mailgun).fetch(url, MAX_BYTES) == RAW  # and the retry gets it


def test_a_wrong_api_key_is_retried_not_dropped(mailgun):
    # A rotated key is fixed by an operator; the message must still be there for the retry.
    url = mailgun.store(RAW, recipient=RECIPIENT)
    with pytest.raises(ProviderUnavailable):
        MailgunStorage(mailgun.url, "key-rotated").fetch(url, MAX_BYTES)


def test_a_stalled_download_times_out_and_is_retried(mailgun):
    url = mailgun.store(RAW, recipient=RECIPIENT)
    mailgun.stall_next_fetch(2)
    with pytest.raises(ProviderUnavailable):
        _storage(mailgun, read_timeout=0.3).fetch(url, MAX_BYTES)


def test_a_message_over_the_limit_is_refused(mailgun):
    url = mailgun.store(RAW, recipient=RECIPIENT)
    with pytest.raises(StoredMessageRefused) as refused:
        _storage(mailgun).fetch(url, len(RAW) - 1)
    assert refused.value.reason == "stored_message_too_large"


def test_a_url_off_mailgun_storage_is_refused_and_never_sent_the_key(mailgun, httpserver):
    httpserver.expect_request("/latest/meta-data/").respond_with_data("secret")
    with pytest.raises(StoredMessageRefused) as refused:
        _storage(mailgun).fetch(httpserver.url_for("/latest/meta-data/"), MAX_BYTES)
    assert refused.value.reason == "message_url_not_allowed"
    assert httpserver.log == []


def test_a_redirect_away_from_storage_is_not_followed(httpserver):
    elsewhere = "http://169.254.169.254/latest/meta-data/"
    httpserver.expect_request("/v3/domains/d/messages/k").respond_with_data(
        "", status=302, headers={"Location": elsewhere}
    )
    storage = MailgunStorage(httpserver.url_for("/").rstrip("/"), "key-test")
    with pytest.raises(ProviderUnavailable):
        storage.fetch(httpserver.url_for("/v3/domains/d/messages/k"), MAX_BYTES)
    assert len(httpserver.log) == 1


def test_an_answer_that_is_not_the_message_is_retried(httpserver):
    httpserver.expect_request("/v3/domains/d/messages/k").respond_with_data(
        "<html>maintenance</html>", content_type="text/html"
    )
    storage = MailgunStorage(httpserver.url_for("/").rstrip("/"), "key-test")
    with pytest.raises(ProviderUnavailable):
        storage.fetch(httpserver.url_for("/v3/domains/d/messages/k"), MAX_BYTES)


def test_a_server_answering_the_raw_message_itself_is_read_too(httpserver):
    httpserver.expect_request(
        "/v3/domains/d/messages/k", headers={"Accept": "message/rfc2822"}
    ).respond_with_data(RAW, content_type="message/rfc2822")
    storage = MailgunStorage(httpserver.url_for("/").rstrip("/"), "key-test")
    assert storage.fetch(httpserver.url_for("/v3/domains/d/messages/k"), MAX_BYTES) == RAW
