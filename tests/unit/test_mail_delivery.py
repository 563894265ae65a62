import pytest

from chalicelib.errors import ProviderRejected, ProviderUnavailable
from chalicelib.mail.delivery import deliver
from chalicelib.mail.outbound import MailStatus, OutboundMail
from chalicelib.providers.mailgun import MailgunSender


class MemoryMailLog:
    def __init__(self):
        self.records = {}
        self.attempts = {}

    def status(self, workspace_id, mail_id):
        return self.records.get((workspace_id, mail_id), MailStatus.QUEUED)

    def mark_sent(self, workspace_id, mail_id, provider_message_id):
        self.records[(workspace_id, mail_id)] = MailStatus.SENT

    def mark_failed(self, workspace_id, mail_id, reason):
        self.records[(workspace_id, mail_id)] = MailStatus.FAILED

    def record_attempt(self, workspace_id, mail_id, error):
        self.attempts[(workspace_id, mail_id)] = self.attempts.get((workspace_id, mail_id), 0) + 1


class ScriptedSender:
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.sent = []

    def send(self, mail):
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        self.sent.append(mail)
        return "<id@mg>"


def _mail():
    return OutboundMail(
        mail_id="m1",
        workspace_id="w1",
        purpose="invitation",
        from_name="Acme",
        to=["bob@acme.test"],
        subject="Hi",
        text="Hello",
        html="<p>Hello</p>",
    )


def test_mail_is_sent_once_even_if_delivered_twice():
    log, sender = MemoryMailLog(), ScriptedSender()
    assert deliver(_mail(), log, sender) is MailStatus.SENT
    assert deliver(_mail(), log, sender) is MailStatus.SENT
    assert len(sender.sent) == 1


def test_permanent_rejection_is_recorded_and_not_retried():
    log, sender = MemoryMailLog(), ScriptedSender(ProviderRejected("400 bad address"))
    assert deliver(_mail(), log, sender) is MailStatus.FAILED
    assert deliver(_mail(), log, sender) is MailStatus.FAILED
    assert sender.sent == []


def test_transient_failure_is_raised_for_the_queue_to_retry():
    log, sender = MemoryMailLog(), ScriptedSender(ProviderUnavailable("503"))
    with pytest.raises(ProviderUnavailable):
        deliver(_mail(), log, sender)
    assert log.attempts[("w1", "m1")] == 1
    assert deliver(_mail(), log, sender) is MailStatus.SENT


def test_mail_round_trips_through_its_queue_message():
    mail = _mail()
    assert OutboundMail.from_json(mail.to_json()) == mail


def test_mailgun_form_has_sender_recipients_and_tracking_variable():
    sender = MailgunSender("https://api.mailgun.test", "mg.helptal.test", "key")
    mail = OutboundMail(
        mail_id="m1",
        workspace_id="w1",
        purpose="invitation",
        from_name="Acme\r\nBcc: x@y.test",
        to=["a@x.test", "b@x.test"],
        subject="Hi\nthere",
        text="t",
        html="<p>h</p>",
        reply_to="r@in.test",
        headers={"In-Reply-To": "<a@b>"},
        tags=["invitation"],
    )
    fields = sender.form_fields(mail)
    assert ("from", '"Acme Bcc: x@y.test" <noreply@mg.helptal.test>') in fields
    assert [v for k, v in fields if k == "to"] == ["a@x.test", "b@x.test"]
    assert ("subject", "Hi there") in fields
    assert ("h:Reply-To", "r@in.test") in fields
    assert ("h:In-Reply-To", "<a@b>") in fields
    assert ("o:tag", "invitation") in fields
    assert ("v:helptal-mail-id", "m1") in fields


def test_missing_mailgun_key_is_a_retryable_failure_not_a_silent_drop():
    sender = MailgunSender("https://api.mailgun.test", "mg.helptal.test", "")
    with pytest.raises(ProviderUnavailable):
        sender.send(_mail())
