"""What the merge template adds to chalice's functions: names, settings, logs, a domain.

- Template parameters for every non-secret setting that differs between deployments (domains,
  base URLs, the Mailgun region, Cloudflare's zone), passed to every function as environment
  variables. Secrets never appear here: functions read them from Parameter Store at run time
  (`SECRETS_PATH`, `chalicelib.secret_store`).
- Each function gets a fixed name (so its role can be scoped to its own log group), the
  `HELPTAL_FUNCTION` variable (which secrets it reads), and a log group with a retention.
- The API (and the help centre it serves under `/hc/`) gets its custom domain: a regional
  ACM certificate validated by DNS and an API Gateway domain name mapped to the API's stage.
"""

from __future__ import annotations

from typing import Any

from chalice.utils import to_cfn_resource_name

Template = dict[str, Any]

LOG_RETENTION_DAYS = 90
CERTIFICATE_ID = "ApiCertificate"
API_ID = "RestAPI"  # chalice's name for the API resource in the SAM template


# name -> (environment variable, default, description)
PARAMETERS: dict[str, tuple[str, str, str]] = {
    "ApiDomainName": (
        "",
        "api.helptal.com",
        "Domain of the API, the invitation pages and the help centre (/hc/<workspace>); "
        "a CNAME to the ApiDomainTarget output",
    ),
    "AppBaseUrl": ("APP_BASE_URL", "https://app.helptal.com", "Where the web client is served"),
    "MailgunDomain": ("MAILGUN_DOMAIN", "mg.helptal.com", "Mailgun sending domain"),
    "InboundMailDomain": (
        "INBOUND_MAIL_DOMAIN",
        "in.helptal.com",
        "Domain of the workspaces' inbound addresses (MX to Mailgun)",
    ),
    "MailgunApiBase": (
        "MAILGUN_API_BASE",
        "https://api.mailgun.net",
        "Mailgun API of the sending domain's region (EU: https://api.eu.mailgun.net)",
    ),
    "CloudflareZoneId": (
        "CLOUDFLARE_ZONE_ID",
        "",
        "Cloudflare for SaaS zone of the tenants' help-centre hostnames (empty: none)",
    ),
    "HelpCentreCnameTarget": (
        "HELP_CENTRE_CNAME_TARGET",
        "",
        "The name tenants CNAME their help-centre domain to (a proxied name in that zone)",
    ),
    "TurnstileSiteKey": (
        "TURNSTILE_SITE_KEY",
        "",
        "Cloudflare Turnstile site key of the help centre's contact form (with the secret "
        "turnstile-secret-key; empty: no human check)",
    ),
    "AlarmEmail": (
        "",
        "",
        "Who is e-mailed when a dead-letter queue holds a message, a function refuses to "
        "serve (missing secret) or stored mail cannot be fetched (empty: alarms only)",
    ),
    "HostedZoneId": (
        "",
        "",
        "Route 53 hosted zone of ApiDomainName, to validate its certificate automatically "
        "(empty: add the validation CNAME shown in ACM by hand while the stack deploys)",
    ),
}


def parameters() -> Template:
    return {
        name: {"Type": "String", "Default": default, "Description": description}
        for name, (_, default, description) in PARAMETERS.items()
    }


def environment(function: str, secrets_path: str) -> dict[str, Any]:
    """The variables every function gets on top of the stage's `environment_variables`."""
    variables: dict[str, Any] = {
        "HELPTAL_FUNCTION": function,
        "SECRETS_PATH": secrets_path,
        "PUBLIC_BASE_URL": {"Fn::Sub": "https://${ApiDomainName}"},
    }
    for name, (variable, _, _) in PARAMETERS.items():
        if variable:
            variables[variable] = {"Ref": name}
    return variables


def function_resource_id(function: str) -> str:
    """chalice's logical id of a function (`APIHandler` for the API)."""
    return "APIHandler" if function == "api_handler" else to_cfn_resource_name(function)


def log_group_id(function: str) -> str:
    return f"{function_resource_id(function)}LogGroup"


def function_overrides(functions: dict[str, str], secrets_path: str) -> tuple[Template, Template]:
    """(patches of chalice's function resources, log group resources).

    `functions` maps each function to its deployed name."""
    patches: Template = {}
    log_groups: Template = {}
    for function, name in functions.items():
        resource_id = function_resource_id(function)
        patches[resource_id] = {
            "DependsOn": [log_group_id(function)],
            "Properties": {
                "FunctionName": name,
                "Environment": {"Variables": environment(function, secrets_path)},
            },
        }
        log_groups[log_group_id(function)] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "LogGroupName": f"/aws/lambda/{name}",
                "RetentionInDays": LOG_RETENTION_DAYS,
            },
        }
    return patches, log_groups


def custom_domain() -> tuple[Template, Template, Template]:
    """(resources, patch of the API resource, outputs) for the API's custom domain."""
    resources: Template = {
        CERTIFICATE_ID: {
            "Type": "AWS::CertificateManager::Certificate",
            "Properties": {
                "DomainName": {"Ref": "ApiDomainName"},
                "ValidationMethod": "DNS",
                "DomainValidationOptions": {
                    "Fn::If": [
                        "HasHostedZone",
                        [
                            {
                                "DomainName": {"Ref": "ApiDomainName"},
                                "HostedZoneId": {"Ref": "HostedZoneId"},
                            }
                        ],
                        {"Ref": "AWS::NoValue"},
                    ]
                },
            },
        }
    }
    api_patch: Template = {
        "Properties": {
            "Domain": {
                "DomainName": {"Ref": "ApiDomainName"},
                "CertificateArn": {"Ref": CERTIFICATE_ID},
                "EndpointConfiguration": "REGIONAL",
                "SecurityPolicy": "TLS_1_2",
            },
        }
    }
    outputs: Template = {
        "ApiDomainTarget": {
            "Description": "CNAME ApiDomainName to this name",
            "Value": {
                "Fn::GetAtt": [f"{API_ID}.DomainName", "RegionalDomainName"],
            },
        },
        "PublicBaseUrl": {"Value": {"Fn::Sub": "https://${ApiDomainName}"}},
    }
    return resources, api_patch, outputs


CONDITIONS: Template = {
    "HasHostedZone": {"Fn::Not": [{"Fn::Equals": [{"Ref": "HostedZoneId"}, ""]}]},
    "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
}

ALARM_TOPIC_ID = "AlarmTopic"
METRIC_NAMESPACE = "Helptal"
# Log lines (Powertools JSON, `message` field) that an operator must hear about:
# name -> (message pattern, description).
LOG_ALARMS: dict[str, tuple[str, str]] = {
    "NotConfigured": (
        "refusing to serve*",
        "a function refuses to serve: a required setting or secret is missing or blank, "
        "or it runs outside the content region",
    ),
    "StoredMailRefused": (
        "stored mail refused",
        "a stored inbound message could not be fetched (expired or not on Mailgun's storage)",
    ),
}


def _alarm(description: str, metric: Template, dimensions: list[Template]) -> Template:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            **metric,
            "Dimensions": dimensions,
            "Statistic": "Maximum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": ALARM_TOPIC_ID}],
        },
    }


def alarms(dead_letter_queue_ids: list[str], functions: dict[str, str]) -> Template:
    """An alarm topic (e-mailed to AlarmEmail), an alarm per dead-letter queue holding a
    message, and log-based alarms (`LOG_ALARMS`) over every function's log group."""
    resources: Template = {
        ALARM_TOPIC_ID: {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": "alias/aws/sns"},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {
                "TopicArn": {"Ref": ALARM_TOPIC_ID},
                "Protocol": "email",
                "Endpoint": {"Ref": "AlarmEmail"},
            },
        },
    }
    for dlq_id in dead_letter_queue_ids:
        resources[f"{dlq_id}Alarm"] = _alarm(
            "a message failed every delivery and waits in this dead-letter queue",
            {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible"},
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}],
        )
    for name, (pattern, description) in LOG_ALARMS.items():
        for function in functions:
            resources[f"{function_resource_id(function)}{name}Filter"] = {
                "Type": "AWS::Logs::MetricFilter",
                "Properties": {
                    "LogGroupName": {"Ref": log_group_id(function)},
                    "FilterPattern": f'{{ $.message = "{pattern}" }}',
                    "MetricTransformations": [
                        {
                            "MetricNamespace": METRIC_NAMESPACE,
                            "MetricName": name,
                            "MetricValue": "1",
                            "DefaultValue": 0,
                        }
                    ],
                },
            }
        resources[f"{name}Alarm"] = _alarm(
            description, {"Namespace": METRIC_NAMESPACE, "MetricName": name}, []
        )
    return resources
