"""Presigned uploads and downloads name the content bucket's regional host: the origin the
web client's Content-Security-Policy allows (infra/web_hosting.FILES_ORIGIN)."""


def test_presigned_links_name_the_buckets_regional_host_that_the_policy_allows(monkeypatch):
    from chalicelib import bootstrap

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bootstrap.s3_client.cache_clear()
    try:
        post = bootstrap.s3_client().generate_presigned_post(Bucket="acme-content", Key="k")
    finally:
        bootstrap.s3_client.cache_clear()
    assert post["url"] == "https://acme-content.s3.ap-southeast-1.amazonaws.com/"


def test_the_policy_allows_that_host_for_uploads_and_images():
    from infra.web_hosting import FILES_ORIGIN, production_csp

    csp = production_csp("default-src 'none'; img-src 'self'; connect-src 'self'")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert FILES_ORIGIN == "https://${ContentBucket}.s3.${AWS::Region}.amazonaws.com"
    assert FILES_ORIGIN in directives["connect-src"] and FILES_ORIGIN in directives["img-src"]
