"""`chalice package` with the infra merge template yields a deployable, safe stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.template import PROJECT_DIR, describe_stage

STAGE = "prod"


@pytest.fixture(scope="module")
def sam(lambda_package) -> dict:
    """The SAM template `make package` produces for prod (the session's one package build)."""
    return lambda_package.sam


def _resources_of_type(sam: dict, kind: str) -> dict[str, dict]:
    return {rid: r for rid, r in sam["Resources"].items() if r["Type"] == kind}


def test_table_expires_items_on_expires_at_and_keeps_point_in_time_recovery(sam):
    (table,) = _resources_of_type(sam, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]

    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    from chalicelib.store.models import Item

    indexes = [index["IndexName"] for index in properties["GlobalSecondaryIndexes"]]
    assert sorted(indexes) == sorted(Item._indexes)


def test_content_bucket_is_encrypted_and_never_public(sam):
    assert set(_resources_of_type(sam, "AWS::S3::Bucket")) == {"ContentBucket", "WebAppBucket"}
    properties = sam["Resources"]["ContentBucket"]["Properties"]

    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_every_queue_redrives_to_a_dead_letter_queue(sam):
    queues = _resources_of_type(sam, "AWS::SQS::Queue")
    work_queues = {
        rid: q for rid, q in queues.items() if not q["Properties"]["QueueName"].endswith("-dlq")
    }
    assert work_queues

    for queue in work_queues.values():
        redrive = queue["Properties"]["RedrivePolicy"]
        dlq_id, attribute = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
        assert attribute == "Arn"
        dlq = queues[dlq_id]["Properties"]
        assert dlq["QueueName"] == f"{queue['Properties']['QueueName']}-dlq"
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert redrive["maxReceiveCount"] == 5


def test_each_queue_stays_invisible_six_times_as_long_as_its_worker_may_run(sam):
    """AWS's advice for Lambda event sources: a visibility timeout of 6x the function's."""
    queues = {
        q["Properties"]["QueueName"]: q["Properties"]
        for q in _resources_of_type(sam, "AWS::SQS::Queue").values()
    }
    checked = 0
    for function in _resources_of_type(sam, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue = queues[event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[1]]
            assert queue["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]
            checked += 1
    assert checked >= 4  # mail out, mail in, events, AI jobs


def test_every_sqs_event_source_reports_batch_item_failures(sam):
    functions = _resources_of_type(sam, "AWS::Serverless::Function")
    sqs_events = [
        (function_id, event)
        for function_id, function in functions.items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    ]
    assert sqs_events, "the app has at least the mail-out worker"
    queue_names = {
        q["Properties"]["QueueName"] for q in _resources_of_type(sam, "AWS::SQS::Queue").values()
    }

    for function_id, event in sqs_events:
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue_arn = event["Properties"]["Queue"]["Fn::Sub"]
        assert queue_arn.rsplit(":", 1)[1] in queue_names, function_id


def test_functions_get_the_configured_memory_and_timeouts(sam):
    functions = _resources_of_type(sam, "AWS::Serverless::Function")

    assert functions["APIHandler"]["Properties"]["MemorySize"] == 512
    assert functions["APIHandler"]["Properties"]["Timeout"] == 29
    assert functions["MailOutWorker"]["Properties"]["MemorySize"] == 256
    assert functions["MailOutWorker"]["Properties"]["Timeout"] == 30
    # Export bundles are written to /tmp first: a whole workspace's files need room.
    assert functions["PrivacyJobsWorker"]["Properties"]["EphemeralStorage"] == {"Size": 10240}
    assert "EphemeralStorage" not in functions["APIHandler"]["Properties"]
    variables = functions["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["RESOURCE_PREFIX"] == "helptal-prod"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_committed_iam_policies_and_config_match_the_app(stage):
    """`python -m infra build --check`: every function's policy file, named in config.json."""
    checked = subprocess.run(
        [sys.executable, "-m", "infra", "build", "--stage", stage, "--check"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    description = describe_stage(stage)
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    functions = config["stages"][stage]["lambda_functions"]
    assert set(functions) == set(description["policies"])
    for function, policy in description["policies"].items():
        committed = PROJECT_DIR / ".chalice" / functions[function]["iam_policy_file"]
        assert json.loads(committed.read_text()) == policy


def _functions_and_roles(sam: dict) -> list[tuple[str, dict, dict]]:
    functions = _resources_of_type(sam, "AWS::Serverless::Function")
    pairs = []
    for function_id, function in functions.items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        pairs.append((function_id, function, sam["Resources"][role_id]))
    return pairs


def _statements(role: dict) -> list[dict]:
    (policy,) = role["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_every_function_has_its_own_role_writing_only_to_its_own_log_group(sam):
    pairs = _functions_and_roles(sam)
    assert len(pairs) >= 5
    assert len({id(role) for _, _, role in pairs}) == len(pairs)
    assert len({function["Properties"]["Role"]["Fn::GetAtt"][0] for _, function, _ in pairs}) == (
        len(pairs)
    )

    for function_id, function, role in pairs:
        name = function["Properties"]["FunctionName"]
        log_group = f"arn:aws:logs:ap-southeast-1:*:log-group:/aws/lambda/{name}"
        for statement in _statements(role):
            actions = _as_list(statement["Action"])
            if any(action.startswith("logs:") for action in actions):
                assert set(_as_list(statement["Resource"])) == {log_group, f"{log_group}:*"}
            assert "*" not in actions and not any(a.endswith(":*") for a in actions), function_id
        groups = [
            r
            for r in _resources_of_type(sam, "AWS::Logs::LogGroup").values()
            if r["Properties"]["LogGroupName"] == f"/aws/lambda/{name}"
        ]
        assert len(groups) == 1 and groups[0]["Properties"]["RetentionInDays"] > 0


def test_every_secret_comes_from_the_parameter_store_and_each_function_reads_only_its_own(sam):
    from chalicelib.secret_store import FUNCTION_SECRETS, SECRETS

    secret_variables = {secret.env for secret in SECRETS}
    for function_id, function, role in _functions_and_roles(sam):
        variables = function["Properties"]["Environment"]["Variables"]
        assert not secret_variables & set(variables), function_id
        assert variables["SECRETS_PATH"] == "/helptal/prod"
        function = variables["HELPTAL_FUNCTION"]
        granted = {
            resource
            for statement in _statements(role)
            if any(a.startswith("ssm:") for a in _as_list(statement["Action"]))
            for resource in _as_list(statement["Resource"])
        }
        expected = {
            f"arn:aws:ssm:ap-southeast-1:*:parameter/helptal/prod/{secret.parameter}"
            for secret in SECRETS
            if secret.field in FUNCTION_SECRETS[function]
        }
        assert granted == expected, function_id
    text = json.dumps(sam)
    for secret_variable in secret_variables:
        assert f'"{secret_variable}"' not in text


def test_every_resource_holding_workspace_content_is_in_ap_southeast_1(sam):
    region = "ap-southeast-1"
    for _, _, role in _functions_and_roles(sam):
        for statement in _statements(role):
            for resource in _as_list(statement["Resource"]):
                if resource == "*":  # KMS through SSM in this region only
                    condition = statement["Condition"]["StringEquals"]["kms:ViaService"]
                    assert condition == f"ssm.{region}.amazonaws.com"
                elif not resource.startswith("arn:aws:s3:::"):
                    assert resource.split(":")[3] == region, resource
    # Queues, the table and the bucket name no other region; the API is regional.
    for resource in sam["Resources"].values():
        assert "us-east-1" not in json.dumps(resource)
    api = sam["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["Domain"]["EndpointConfiguration"] == "REGIONAL"
    certificate = sam["Resources"][api["Domain"]["CertificateArn"]["Ref"]]
    assert certificate["Type"] == "AWS::CertificateManager::Certificate"
    assert certificate["Properties"]["ValidationMethod"] == "DNS"


def test_domains_and_base_urls_are_template_parameters_given_to_every_function(sam):
    parameters = sam["Parameters"]
    for name in ("ApiDomainName", "AppBaseUrl", "MailgunDomain", "InboundMailDomain"):
        assert name in parameters
    for function_id, function, _ in _functions_and_roles(sam):
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["MAILGUN_DOMAIN"] == {"Ref": "MailgunDomain"}, function_id
        assert variables["INBOUND_MAIL_DOMAIN"] == {"Ref": "InboundMailDomain"}
        assert variables["APP_BASE_URL"] == {"Ref": "AppBaseUrl"}
        assert variables["PUBLIC_BASE_URL"] == {"Fn::Sub": "https://${ApiDomainName}"}
        assert variables["HELPTAL_STAGE"] == "prod"
    assert "ApiDomainTarget" in sam["Outputs"]


def test_operators_hear_of_dead_letters_refusals_to_serve_and_unfetchable_mail(sam):
    resources = sam["Resources"]
    alarms = _resources_of_type(sam, "AWS::CloudWatch::Alarm")
    topic_id = "AlarmTopic"
    assert resources[topic_id]["Type"] == "AWS::SNS::Topic"
    assert resources["AlarmEmailSubscription"]["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]

    watched_queues = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms.values()
        if alarm["Properties"]["Namespace"] == "AWS/SQS"
    }
    dead_letter_queues = {
        rid
        for rid, queue in _resources_of_type(sam, "AWS::SQS::Queue").items()
        if queue["Properties"]["QueueName"].endswith("-dlq")
    }
    assert watched_queues == dead_letter_queues

    filters = _resources_of_type(sam, "AWS::Logs::MetricFilter").values()
    for metric, message in (
        ("NotConfigured", "refusing to serve"),
        ("StoredMailRefused", "stored mail refused"),
    ):
        groups = {
            f["Properties"]["LogGroupName"]["Ref"]
            for f in filters
            if f["Properties"]["MetricTransformations"][0]["MetricName"] == metric
        }
        assert groups == set(_resources_of_type(sam, "AWS::Logs::LogGroup"))
        assert any(message in f["Properties"]["FilterPattern"] for f in filters)
        assert any(a["Properties"]["MetricName"] == metric for a in alarms.values())


def test_the_packaged_template_passes_cfn_lint_without_a_warning(lambda_package):
    """CloudFormation's own linter (with the SAM transform) finds no error and no warning."""
    linted = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--regions",
            "ap-southeast-1",
            "--",
            str(lambda_package.out / "sam.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert linted.returncode == 0, linted.stdout + linted.stderr


# --- the web client on S3 behind CloudFront ---------------------------------------------------


def test_web_client_bucket_is_private_and_read_only_by_its_distribution(sam):
    resources = sam["Resources"]
    bucket = resources["WebAppBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "WebsiteConfiguration" not in bucket

    (policy,) = _resources_of_type(sam, "AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": "WebAppBucket"}
    allowed = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert {statement["Action"] for statement in allowed} == {"s3:GetObject", "s3:ListBucket"}
    for statement in allowed:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
        assert source.endswith("distribution/${WebAppDistribution}")

    (oac,) = _resources_of_type(sam, "AWS::CloudFront::OriginAccessControl").values()
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"]) == ("s3", "always")
    distribution = resources["WebAppDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = distribution["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebAppBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebAppOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_web_client_is_served_at_the_app_host_over_https_only(sam):
    distribution = sam["Resources"]["WebAppDistribution"]["Properties"]["DistributionConfig"]
    assert distribution["DefaultRootObject"] == "index.html"
    aliases = distribution["Aliases"]["Fn::If"]
    assert aliases[0] == "HasWebAppCertificate"
    assert aliases[1] == [{"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AppBaseUrl"}]}]}]
    certificate = distribution["ViewerCertificate"]["Fn::If"][1]
    assert certificate["AcmCertificateArn"] == {"Ref": "WebAppCertificateArn"}
    assert certificate["SslSupportMethod"] == "sni-only"
    assert certificate["MinimumProtocolVersion"].startswith("TLSv1.2")
    parameter = sam["Parameters"]["WebAppCertificateArn"]
    assert ":us-east-1:" in parameter["AllowedPattern"]
    behaviors = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    for behavior in behaviors:
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]
        assert behavior["Compress"] is True
        assert behavior["ResponseHeadersPolicyId"] == {"Ref": "WebAppHeadersPolicy"}
    outputs = sam["Outputs"]
    assert outputs["WebAppBucketName"]["Value"] == {"Ref": "WebAppBucket"}
    assert outputs["WebAppDistributionId"]["Value"] == {"Ref": "WebAppDistribution"}
    assert "WebAppDistributionDomain" in outputs


def test_web_client_assets_are_cached_a_year_and_its_page_is_revalidated(sam):
    resources = sam["Resources"]
    distribution = resources["WebAppDistribution"]["Properties"]["DistributionConfig"]
    (assets,) = distribution["CacheBehaviors"]
    assert assets["PathPattern"] == "assets/*"

    def policy(behavior):
        return resources[behavior["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]

    year = 365 * 24 * 3600
    assert (policy(assets)["MinTTL"], policy(assets)["MaxTTL"]) == (year, year)
    entry = policy(distribution["DefaultCacheBehavior"])
    assert (entry["MinTTL"], entry["DefaultTTL"]) == (0, 0)  # index.html's no-cache holds
    for config in (policy(assets), entry):
        forwarded = config["ParametersInCacheKeyAndForwardedToOrigin"]
        assert forwarded["EnableAcceptEncodingBrotli"] and forwarded["EnableAcceptEncodingGzip"]
        assert forwarded["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_only_the_app_routes_fall_back_to_its_page(sam):
    """A route (`/tickets/01J...`) gets index.html; a missing file stays a 404."""
    distribution = sam["Resources"]["WebAppDistribution"]["Properties"]["DistributionConfig"]
    assert "CustomErrorResponses" not in distribution
    (association,) = distribution["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function_id = association["FunctionARN"]["Fn::GetAtt"][0]
    function = sam["Resources"][function_id]["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True
    assert 'request.uri = "/index.html"' in function["FunctionCode"]
    assert 'indexOf(".") === -1' in function["FunctionCode"]
    (assets,) = distribution["CacheBehaviors"]
    assert "FunctionAssociations" not in assets


def _served_headers(policy: dict) -> dict[str, str]:
    """The headers a response headers policy sets, by name (CSP as its Fn::Sub text)."""
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    headers = {
        "Content-Security-Policy": security["ContentSecurityPolicy"]["ContentSecurityPolicy"][
            "Fn::Sub"
        ],
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
    }
    hsts = security["StrictTransportSecurity"]
    headers["Strict-Transport-Security"] = f"max-age={hsts['AccessControlMaxAgeSec']}" + (
        "; includeSubDomains" if hsts["IncludeSubdomains"] else ""
    )
    for item in config["CustomHeadersConfig"]["Items"]:
        headers[item["Header"]] = item["Value"]
    overrides = [v["Override"] for k, v in security.items()]
    overrides += [item["Override"] for item in config["CustomHeadersConfig"]["Items"]]
    assert all(overrides)
    return headers


def test_web_client_is_sent_with_the_local_servers_security_headers_plus_hsts(sam):
    (policy,) = _resources_of_type(sam, "AWS::CloudFront::ResponseHeadersPolicy").values()
    local = json.loads((PROJECT_DIR / "webapp" / "security-headers.json").read_text())
    served = _served_headers(policy)

    # HSTS: production only (two years, subdomains), unless the local file names one.
    hsts = local.pop("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    assert served.pop("Strict-Transport-Security") == hsts.removesuffix("; preload")
    served_csp = served.pop("Content-Security-Policy")
    local_csp = local.pop("Content-Security-Policy")
    assert served == local
    # The same policy, the API's origin added to connect-src (the app calls it), and the
    # content bucket's regional host to connect-src and img-src (uploads and images).
    directives = dict(d.strip().split(" ", 1) for d in served_csp.split(";"))
    expected = dict(d.strip().split(" ", 1) for d in local_csp.split(";"))
    files = "https://${ContentBucket}.s3.${AWS::Region}.amazonaws.com"
    expected["connect-src"] += f" https://${{ApiDomainName}} {files}"
    # ... and the live WebSocket API (GET /v1/live hands its URL to the app).
    expected["connect-src"] += " wss://${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    expected["img-src"] += f" https://${{ApiDomainName}} {files}"
    assert directives == expected
    assert "unsafe-inline" not in served_csp and "unsafe-eval" not in served_csp


def test_make_package_also_lays_out_the_web_client(lambda_package):
    from infra.web_build import unresolved_references

    webapp = lambda_package.out / "webapp"
    index = (webapp / "index.html").read_text()
    assert '<base href="/">' in index
    assert '<script type="module" src="assets/' in index
    assert unresolved_references(webapp) == []
    assert "web client" in lambda_package.output


def test_the_content_bucket_lets_only_the_web_clients_origin_upload_and_read(sam):
    bucket = sam["Resources"]["ContentBucket"]["Properties"]
    [rule] = bucket["CorsConfiguration"]["CorsRules"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST"]
    [origin] = rule["AllowedOrigins"]
    # scheme://host of the AppBaseUrl parameter, never a wildcard.
    assert "AppBaseUrl" in json.dumps(origin) and "*" not in json.dumps(origin)
