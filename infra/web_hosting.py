"""The web client's hosting in the stage's template: S3 behind CloudFront at APP_BASE_URL.

- A private bucket (all public access blocked, encrypted, no website hosting) that only the
  distribution reads, through an Origin Access Control (SigV4-signed requests, the bucket
  policy naming this distribution). `python -m infra.publish_web` fills it from
  `build/package/webapp/` (infra/web_build.py).
- A distribution on the host of `AppBaseUrl` (certificate `WebAppCertificateArn`, which
  CloudFront only takes from us-east-1): HTTPS only, HTTP/2 and 3, gzip and brotli.
  `assets/*` (versioned names) is cached for a year; everything else follows the files'
  `no-cache`, so a new `index.html` is seen on the next load.
- A viewer-request function sends the app's routes (a last path segment without a dot:
  `/tickets/01J...`, `/login`) to `/index.html`, as the local server does; a missing file
  (`/assets/x/js/gone.js`) stays a 404 instead of becoming the app's page with a 200, which a
  browser would refuse as a module anyway and a cache would keep (docs/decisions/0026).
- A response headers policy with the headers of `webapp/security-headers.json` (those the
  local server sends), the Content-Security-Policy's `connect-src` also naming the API's
  origin (the app calls it cross-origin, same site), plus HSTS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECURITY_HEADERS = PROJECT_DIR / "webapp" / "security-headers.json"

Template = dict[str, Any]

BUCKET_ID = "WebAppBucket"
BUCKET_POLICY_ID = "WebAppBucketPolicy"
ORIGIN_ACCESS_ID = "WebAppOriginAccessControl"
ROUTES_FUNCTION_ID = "WebAppRoutesFunction"
ENTRY_CACHE_POLICY_ID = "WebAppEntryCachePolicy"
ASSET_CACHE_POLICY_ID = "WebAppAssetCachePolicy"
HEADERS_POLICY_ID = "WebAppHeadersPolicy"
DISTRIBUTION_ID = "WebAppDistribution"
CERTIFICATE_PARAMETER = "WebAppCertificateArn"
HAS_CERTIFICATE = "HasWebAppCertificate"
ORIGIN = "webapp-bucket"
ASSETS_PATTERN = "assets/*"
YEAR_SECONDS = 365 * 24 * 3600
HSTS_SECONDS = 2 * YEAR_SECONDS
API_ORIGIN = "https://${ApiDomainName}"  # Fn::Sub, as PUBLIC_BASE_URL
# Fn::Sub: the content bucket's regional host, where presigned uploads and downloads go
# (chalicelib/bootstrap.s3_client addresses it so).
FILES_ORIGIN = "https://${ContentBucket}.s3.${AWS::Region}.amazonaws.com"
# The live WebSocket API (chalice's `WebsocketAPI`), which the web client connects to.
LIVE_ORIGIN = "wss://${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"

# The app's routes to its page; files (a dot in the last segment) as they are.
ROUTES_FUNCTION_CODE = """\
function handler(event) {
  var request = event.request;
  var last = request.uri.split("/").pop();
  if (last.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
"""

# Headers CloudFront sets through SecurityHeadersConfig (the rest are custom headers).
_FRAME_OPTIONS = "X-Frame-Options"
_CONTENT_TYPE_OPTIONS = "X-Content-Type-Options"
_REFERRER_POLICY = "Referrer-Policy"
_CSP = "Content-Security-Policy"
_HSTS = "Strict-Transport-Security"  # production only, unless the JSON names one


def parameters() -> Template:
    return {
        CERTIFICATE_PARAMETER: {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^$|^arn:aws:acm:us-east-1:[0-9]{12}:certificate/[-a-f0-9]+$",
            "Description": (
                "ACM certificate of the host of AppBaseUrl, issued in us-east-1 (CloudFront "
                "takes no other region); empty: the web client is served on the "
                "distribution's own cloudfront.net name only"
            ),
        }
    }


CONDITIONS: Template = {
    HAS_CERTIFICATE: {"Fn::Not": [{"Fn::Equals": [{"Ref": CERTIFICATE_PARAMETER}, ""]}]},
}


def security_headers() -> dict[str, str]:
    """The headers every file of the app is sent with (`webapp/security-headers.json`)."""
    headers: dict[str, str] = json.loads(SECURITY_HEADERS.read_text(encoding="utf-8"))
    return headers


def with_sources(csp: str, additions: dict[str, list[str]]) -> str:
    """The policy with `additions` (directive -> sources) added to its directives."""
    directives = [directive.strip() for directive in csp.split(";") if directive.strip()]
    for name, sources in additions.items():
        index = next((i for i, d in enumerate(directives) if d.split()[0] == name), None)
        if index is None:
            directives.append(" ".join([name, "'self'", *sources]))
        else:
            directives[index] = " ".join([directives[index], *sources])
    return "; ".join(directives)


def production_csp(csp: str, api_origin: str = API_ORIGIN, files_origin: str = FILES_ORIGIN) -> str:
    """The policy with the API's origin added to `connect-src` (the app calls it) and to
    `img-src` (avatars are API links that redirect), and the content bucket's (uploads by
    presigned POST, images by presigned GET) to `connect-src` and `img-src`."""
    return with_sources(
        csp, {"connect-src": [api_origin, files_origin], "img-src": [api_origin, files_origin]}
    )


def _headers_policy() -> Template:
    headers = dict(security_headers())
    csp = headers.pop(_CSP)
    frame = headers.pop(_FRAME_OPTIONS)
    referrer = headers.pop(_REFERRER_POLICY)
    if headers.pop(_CONTENT_TYPE_OPTIONS).lower() != "nosniff":
        raise ValueError(f"{_CONTENT_TYPE_OPTIONS} can only be nosniff")
    hsts = _hsts(headers.pop(_HSTS, f"max-age={HSTS_SECONDS}; includeSubDomains"))
    return {
        "Type": "AWS::CloudFront::ResponseHeadersPolicy",
        "Properties": {
            "ResponseHeadersPolicyConfig": {
                "Name": {"Fn::Sub": "${AWS::StackName}-web-headers"},
                "Comment": "webapp/security-headers.json, the API in connect-src, HSTS",
                "SecurityHeadersConfig": {
                    "ContentSecurityPolicy": {
                        "ContentSecurityPolicy": {
                            "Fn::Sub": with_sources(
                                production_csp(csp), {"connect-src": [LIVE_ORIGIN]}
                            )
                        },
                        "Override": True,
                    },
                    "ContentTypeOptions": {"Override": True},
                    "FrameOptions": {"FrameOption": frame.upper(), "Override": True},
                    "ReferrerPolicy": {"ReferrerPolicy": referrer, "Override": True},
                    "StrictTransportSecurity": hsts,
                },
                "CustomHeadersConfig": {
                    "Items": [
                        {"Header": name, "Value": value, "Override": True}
                        for name, value in headers.items()
                    ]
                },
            }
        },
    }


def _hsts(value: str) -> Template:
    """CloudFront's form of a Strict-Transport-Security value (the JSON may name one)."""
    directives = [directive.strip().lower() for directive in value.split(";")]
    max_age = next(int(d.split("=", 1)[1]) for d in directives if d.startswith("max-age="))
    found: Template = {
        "AccessControlMaxAgeSec": max_age,
        "IncludeSubdomains": "includesubdomains" in directives,
        "Override": True,
    }
    if "preload" in directives:
        found["Preload"] = True
    return found


def _cache_policy(name: str, comment: str, minimum: int, default: int, maximum: int) -> Template:
    return {
        "Type": "AWS::CloudFront::CachePolicy",
        "Properties": {
            "CachePolicyConfig": {
                "Name": {"Fn::Sub": f"${{AWS::StackName}}-{name}"},
                "Comment": comment,
                "MinTTL": minimum,
                "DefaultTTL": default,
                "MaxTTL": maximum,
                "ParametersInCacheKeyAndForwardedToOrigin": {
                    "EnableAcceptEncodingGzip": True,
                    "EnableAcceptEncodingBrotli": True,
                    "CookiesConfig": {"CookieBehavior": "none"},
                    "HeadersConfig": {"HeaderBehavior": "none"},
                    "QueryStringsConfig": {"QueryStringBehavior": "none"},
                },
            }
        },
    }


def _behavior(cache_policy_id: str) -> Template:
    return {
        "TargetOriginId": ORIGIN,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD"],
        "CachedMethods": ["GET", "HEAD"],
        "Compress": True,
        "CachePolicyId": {"Ref": cache_policy_id},
        "ResponseHeadersPolicyId": {"Ref": HEADERS_POLICY_ID},
    }


def _app_host() -> Template:
    # "https://app.example.com" -> ["https:", "", "app.example.com"]
    return {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AppBaseUrl"}]}]}


def _distribution() -> Template:
    default_behavior = _behavior(ENTRY_CACHE_POLICY_ID)
    default_behavior["FunctionAssociations"] = [
        {
            "EventType": "viewer-request",
            "FunctionARN": {"Fn::GetAtt": [ROUTES_FUNCTION_ID, "FunctionARN"]},
        }
    ]
    return {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {
            "DistributionConfig": {
                "Enabled": True,
                "Comment": {"Fn::Sub": "${AWS::StackName} web client"},
                "Aliases": {"Fn::If": [HAS_CERTIFICATE, [_app_host()], {"Ref": "AWS::NoValue"}]},
                "DefaultRootObject": "index.html",
                "HttpVersion": "http2and3",
                "IPV6Enabled": True,
                "Origins": [
                    {
                        "Id": ORIGIN,
                        "DomainName": {"Fn::GetAtt": [BUCKET_ID, "RegionalDomainName"]},
                        "OriginAccessControlId": {"Fn::GetAtt": [ORIGIN_ACCESS_ID, "Id"]},
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
                "DefaultCacheBehavior": default_behavior,
                "CacheBehaviors": [
                    {"PathPattern": ASSETS_PATTERN, **_behavior(ASSET_CACHE_POLICY_ID)}
                ],
                "ViewerCertificate": {
                    "Fn::If": [
                        HAS_CERTIFICATE,
                        {
                            "AcmCertificateArn": {"Ref": CERTIFICATE_PARAMETER},
                            "SslSupportMethod": "sni-only",
                            "MinimumProtocolVersion": "TLSv1.2_2021",
                        },
                        {"CloudFrontDefaultCertificate": True},
                    ]
                },
            }
        },
    }


def _bucket() -> Template:
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    }


def _bucket_policy() -> Template:
    bucket_arn = {"Fn::GetAtt": [BUCKET_ID, "Arn"]}
    objects_arn = {"Fn::Sub": f"${{{BUCKET_ID}.Arn}}/*"}
    this_distribution = {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:"
                f"distribution/${{{DISTRIBUTION_ID}}}"
            }
        }
    }
    cloudfront = {"Service": "cloudfront.amazonaws.com"}
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": BUCKET_ID},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DistributionReadsFiles",
                        "Effect": "Allow",
                        "Principal": cloudfront,
                        "Action": "s3:GetObject",
                        "Resource": objects_arn,
                        "Condition": this_distribution,
                    },
                    {
                        # A missing file is a 404 rather than S3's 403 (the cache policies
                        # forward no query string, so a viewer cannot list the bucket).
                        "Sid": "DistributionSeesMissingFiles",
                        "Effect": "Allow",
                        "Principal": cloudfront,
                        "Action": "s3:ListBucket",
                        "Resource": bucket_arn,
                        "Condition": this_distribution,
                    },
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn, objects_arn],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    }


def resources() -> tuple[Template, Template]:
    """(resources, outputs) of the web client's hosting."""
    found: Template = {
        BUCKET_ID: _bucket(),
        BUCKET_POLICY_ID: _bucket_policy(),
        ORIGIN_ACCESS_ID: {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-web"},
                    "Description": "the web client's distribution reads its bucket",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        ROUTES_FUNCTION_ID: {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}-web-routes"},
                "AutoPublish": True,
                "FunctionConfig": {
                    "Comment": "the app's routes to /index.html; files as they are",
                    "Runtime": "cloudfront-js-2.0",
                },
                "FunctionCode": ROUTES_FUNCTION_CODE,
            },
        },
        ENTRY_CACHE_POLICY_ID: _cache_policy(
            "web-entry",
            "index.html and the app's messages: as the files say (no-cache)",
            0,
            0,
            3600,
        ),
        ASSET_CACHE_POLICY_ID: _cache_policy(
            "web-assets",
            "versioned assets: a year",
            YEAR_SECONDS,
            YEAR_SECONDS,
            YEAR_SECONDS,
        ),
        HEADERS_POLICY_ID: _headers_policy(),
        DISTRIBUTION_ID: _distribution(),
    }
    outputs: Template = {
        "WebAppBucketName": {
            "Description": "python -m infra.publish_web uploads the web client here",
            "Value": {"Ref": BUCKET_ID},
        },
        "WebAppDistributionId": {"Value": {"Ref": DISTRIBUTION_ID}},
        "WebAppDistributionDomain": {
            "Description": "CNAME the host of AppBaseUrl to this name",
            "Value": {"Fn::GetAtt": [DISTRIBUTION_ID, "DomainName"]},
        },
        "AppBaseUrl": {"Value": {"Ref": "AppBaseUrl"}},
    }
    return found, outputs
