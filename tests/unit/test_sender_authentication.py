"""Whether a mail's From address is proven by SPF or DKIM with relaxed alignment."""

import pytest

from chalicelib.mail.inbound.sender_auth import (
    aligned,
    authenticate_headers,
    authenticate_sender,
    organisational_domain,
)

ALICE = "alice@customer.test"


def _verdict(
    *,
    envelope="alice@customer.test",
    spf=("Pass",),
    dkim=(),
    signatures=(),
    from_address=ALICE,
):
    return authenticate_sender(
        from_address=from_address,
        envelope_sender=envelope,
        spf_results=list(spf),
        dkim_results=list(dkim),
        dkim_signatures=list(signatures),
    )


@pytest.mark.parametrize(
    ("domain", "organisational"),
    [
        ("customer.test", "customer.test"),
        ("mail.eu.customer.test", "customer.test"),
        ("shop.co.uk", "shop.co.uk"),
        ("mail.shop.co.uk", "shop.co.uk"),
        ("bounces.shop.com.au", "shop.com.au"),
        ("a.b.shop.com.sg", "shop.com.sg"),
        ("mx.shop.co.jp", "shop.co.jp"),
        ("MAIL.Customer.TEST.", "customer.test"),
    ],
)
def test_organisational_domain_is_the_registrable_domain(domain, organisational):
    assert organisational_domain(domain) == organisational


def test_alignment_is_relaxed_but_never_across_organisations_or_on_a_bare_suffix():
    assert aligned("bounces.customer.test", "customer.test")
    assert aligned("customer.test", "support.customer.test")
    assert not aligned("evil.test", "customer.test")
    assert not aligned("customer.test.evil.test", "customer.test")
    assert not aligned("other.co.uk", "shop.co.uk")
    assert not aligned("co.uk", "co.uk")
    assert not aligned("", "customer.test")


def test_spf_pass_with_the_envelope_aligned_to_from_is_authenticated():
    verdict = _verdict(envelope="bounce+123@mail.customer.test")
    assert (verdict.verified, verdict.method) == (True, "spf")


def test_spf_pass_for_another_domain_is_not_authenticated():
    verdict = _verdict(envelope="mallory@evil.test")
    assert not verdict.verified
    assert verdict.reason == "SPF or DKIM passed for another domain"


@pytest.mark.parametrize("spf", ["Fail", "SoftFail", "Neutral", "None", ""])
def test_spf_other_than_pass_is_not_authenticated_even_when_aligned(spf):
    assert not _verdict(spf=(spf,)).verified


def test_dkim_pass_with_an_aligned_d_domain_is_authenticated_whatever_spf_says():
    verdict = _verdict(
        envelope="bounces@esp.test",
        spf=("Pass",),
        dkim=("Pass",),
        signatures=("v=1; a=rsa-sha256; d=customer.test; s=k1; h=from; bh=x; b=y",),
    )
    assert (verdict.verified, verdict.method) == (True, "dkim")
    assert _verdict(
        spf=("Fail",), dkim=("Pass",), signatures=("v=1; d=mail.customer.test; s=k1",)
    ).verified


def test_dkim_pass_for_an_unaligned_domain_is_not_authenticated():
    assert not _verdict(
        envelope="mallory@evil.test", dkim=("Pass",), signatures=("v=1; d=evil.test; s=k1",)
    ).verified


def test_dkim_with_one_unaligned_signature_among_several_does_not_count():
    # Mailgun gives one verdict for the message: we cannot tell which signature passed.
    assert not _verdict(
        envelope="mallory@evil.test",
        dkim=("Pass",),
        signatures=("v=1; d=evil.test; s=k1", "v=1; d=customer.test; s=k1"),
    ).verified


def test_dkim_fail_or_no_signature_is_not_authenticated():
    unaligned = "mallory@evil.test"
    signature = ("v=1; d=customer.test; s=k1",)
    assert not _verdict(envelope=unaligned, dkim=("Fail",), signatures=signature).verified
    assert not _verdict(envelope=unaligned, dkim=("Pass",), signatures=()).verified
    assert not _verdict(envelope=unaligned, dkim=("Pass",), signatures=("v=1; s=k1",)).verified


def test_missing_verdicts_are_not_authenticated():
    verdict = _verdict(spf=(), dkim=())
    assert (verdict.verified, verdict.reason) == (False, "no SPF or DKIM verdict")
    assert not _verdict(envelope=None).verified
    assert not _verdict(envelope="").verified
    assert not _verdict(from_address="").verified


def test_a_pass_added_by_the_sender_next_to_mailguns_fail_is_void():
    assert not _verdict(spf=("Fail", "Pass")).verified
    assert not _verdict(spf=("Pass", "SoftFail")).verified


def test_verdicts_are_read_from_the_headers_in_any_case():
    headers = [
        ("X-Mailgun-Spf", "Fail"),
        ("x-mailgun-dkim-check-result", "Pass"),
        ("DKIM-Signature", "v=1; a=rsa-sha256;\r\n d=Customer.Test; s=k1; b=abc"),
        ("From", "Alice <alice@customer.test>"),
    ]
    verdict = authenticate_headers(headers, from_address=ALICE, envelope_sender="x@esp.test")
    assert (verdict.verified, verdict.method) == (True, "dkim")
    forged = authenticate_headers(
        [("X-Mailgun-Spf", "Pass")], from_address=ALICE, envelope_sender="mallory@evil.test"
    )
    assert not forged.verified
