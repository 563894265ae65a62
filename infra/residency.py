"""Workspace content stays in the content region: what a stage's template must say, checked.

- `region_rules()`: the template's `Rules` block: CloudFormation refuses to create or update
  the stack in any region but `CONTENT_REGION`, before it creates anything.
- `template_refusals(template)`: why a template (the merge template or the packaged SAM
  template) would put workspace content elsewhere: a table, bucket, queue or KMS key with a
  region property naming another region or replicating out of the stack; any ARN or AWS
  endpoint of DynamoDB, S3, SQS or KMS in another region (policies, variables, outputs); a
  function whose environment names another region or an endpoint besides AWS's own; a
  condition on the stack's region; a template without the region rule.
- `stage_refusals(stage, config, policies, merge_template)`: the same for what
  `python -m infra build` writes: the stage's variables in `.chalice/config.json`, each
  function's IAM policy, the merge template.

`python -m infra build` and `make package` stop on any refusal (`ContentOutsideRegion`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.privacy.residency import (
    CONTENT_REGION,
    ENDPOINT_VARIABLE,
    REGION_PATTERN,
    REGION_VARIABLES,
    refusal,
)

Template = dict[str, Any]

RULE_ID = "WorkspaceContentRegion"
REGION_REF = {"Ref": "AWS::Region"}

# The resources that hold workspace content (or the keys that open it).
CONTENT_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::KMS::Key",
        "AWS::KMS::ReplicaKey",
    }
)
FUNCTION_TYPES = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})
CONTENT_SERVICES = ("dynamodb", "s3", "sqs", "kms")

# `arn:aws:sqs:eu-west-1:...`: the service and its region (empty for S3 buckets and objects).
_ARN = re.compile(rf"arn:aws[\w-]*:(?P<service>{'|'.join(CONTENT_SERVICES)}):(?P<region>[^:]*):")
# `sqs.eu-west-1.amazonaws.com`, `bucket.s3.eu-west-1.amazonaws.com`, `s3-eu-west-1...`.
_ENDPOINT = re.compile(
    rf"(?:^|[/.])(?:{'|'.join(CONTENT_SERVICES)})[.-](?P<region>{REGION_PATTERN})"
    r"\.amazonaws\.com",
)
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class ContentOutsideRegion(Exception):
    """The build would put workspace content outside the content region; says where."""

    def __init__(self, refusals: list[str]) -> None:
        super().__init__(
            f"workspace content must stay in {CONTENT_REGION}; refusing to build:\n"
            + "\n".join(f"  {line}" for line in refusals)
        )
        self.refusals = refusals


def region_rules() -> Template:
    """The template's `Rules`: a deploy to another region fails before anything is created."""
    return {
        RULE_ID: {
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [REGION_REF, CONTENT_REGION]},
                    "AssertDescription": (
                        f"Helptal keeps workspace content in {CONTENT_REGION}: deploy this "
                        f"stack there (--region {CONTENT_REGION})"
                    ),
                }
            ]
        }
    }


def has_region_rule(template: Template) -> bool:
    """The template carries `region_rules()` (and no other region is allowed by it)."""
    return bool(template.get("Rules", {}).get(RULE_ID) == region_rules()[RULE_ID])


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every string in a template node, keys excluded."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")


def _named_regions(text: str) -> Iterator[str]:
    """The regions of content-service ARNs and endpoints in a string (Fn::Sub text too)."""
    for match in _ARN.finditer(text):
        region = match.group("region")
        if region and region not in (CONTENT_REGION, "${AWS::Region}", "*"):
            yield region
    for match in _ENDPOINT.finditer(text):
        if match.group("region") != CONTENT_REGION:
            yield match.group("region")


def _is_region_key(key: str) -> bool:
    return key.endswith(("Region", "Regions"))


def _region_properties(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every `...Region` property (GlobalTable replicas, replica keys...)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if _is_region_key(key):
                yield f"{path}.{key}", value
            else:
                yield from _region_properties(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _region_properties(value, f"{path}[{index}]")


def _is_content_region(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_content_region(item) for item in value)
    return value in (CONTENT_REGION, REGION_REF, {"Fn::Sub": "${AWS::Region}"})


def _refers_to(node: Any, resource_ids: set[str]) -> bool:
    """`node` is a Ref, GetAtt or Sub of one of `resource_ids` (a bucket of this stack)."""
    if not isinstance(node, dict) or len(node) != 1:
        return False
    (function, argument), *_ = node.items()
    if function == "Ref":
        return argument in resource_ids
    if function == "Fn::GetAtt":
        target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
        return target in resource_ids
    if function == "Fn::Sub":
        text = argument[0] if isinstance(argument, list) else argument
        names = {name.split(".")[0] for name in _SUB_VARIABLE.findall(str(text))}
        return bool(names) and names <= resource_ids | {"AWS::Partition"}
    return False


def _replication_refusals(resource_id: str, resource: Template, buckets: set[str]) -> list[str]:
    """A bucket replicating to a bucket outside this stack (whose region is not known)."""
    rules = resource.get("Properties", {}).get("ReplicationConfiguration", {}).get("Rules", [])
    refused = []
    for index, rule in enumerate(rules):
        destination = rule.get("Destination", {}).get("Bucket")
        if not _refers_to(destination, buckets):
            refused.append(
                refusal(
                    f"{resource_id} (AWS::S3::Bucket) replicates to {destination!r}, a bucket "
                    f"outside this stack (ReplicationConfiguration.Rules[{index}])"
                )
            )
    return refused


def _resource_refusals(resource_id: str, resource: Template, buckets: set[str]) -> list[str]:
    kind = resource.get("Type", "")
    refused: list[str] = []
    if kind in CONTENT_TYPES:
        for path, value in _region_properties(resource.get("Properties", {}), "Properties"):
            if not _is_content_region(value):
                refused.append(refusal(f"{resource_id} ({kind}) has {path} = {value!r}"))
        if kind == "AWS::S3::Bucket":
            refused += _replication_refusals(resource_id, resource, buckets)
        if kind == "AWS::KMS::ReplicaKey":
            # A replica's primary key lives in another region by definition.
            refused.append(refusal(f"{resource_id} (AWS::KMS::ReplicaKey) replicates a key"))
    if kind in FUNCTION_TYPES:
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        refused += _variable_refusals(variables, f"{resource_id} ({kind}) environment")
    return refused


def _variable_refusals(variables: Mapping[str, Any], where: str) -> list[str]:
    """A deployed function's region variables (Lambda sets them: a template must not) and
    endpoints (its SDKs talk to AWS in the function's region, never elsewhere)."""
    refused = []
    for name, value in sorted(variables.items()):
        if name in REGION_VARIABLES and value != CONTENT_REGION:
            refused.append(refusal(f"{where} sets {name}={value!r}"))
        elif name.startswith(ENDPOINT_VARIABLE):
            refused.append(refusal(f"{where} sends AWS calls to {name}={value!r}"))
    return refused


def _condition_refusals(conditions: Mapping[str, Any]) -> list[str]:
    """A stack of Helptal runs in one region: no condition may depend on which."""
    refused = []
    for name, condition in sorted(conditions.items()):
        if "AWS::Region" in repr(condition):
            refused.append(refusal(f"condition {name} depends on the stack's region"))
    return refused


def template_refusals(template: Template) -> list[str]:
    """Why this template would put workspace content outside `CONTENT_REGION` ([]: it would
    not), each naming the resource, output or condition at fault."""
    resources: Template = template.get("Resources", {})
    buckets = {rid for rid, r in resources.items() if r.get("Type") == "AWS::S3::Bucket"}
    refused: list[str] = []
    if not has_region_rule(template):
        refused.append(
            refusal(f"the template has no Rules.{RULE_ID} refusing a deploy to another region")
        )
    for resource_id, resource in sorted(resources.items()):
        refused += _resource_refusals(resource_id, resource, buckets)
    refused += _condition_refusals(template.get("Conditions", {}))
    for section in ("Resources", "Outputs", "Mappings", "Parameters", "Globals"):
        for path, text in _strings(template.get(section, {}), section):
            for region in _named_regions(text):
                refused.append(refusal(f"{path} names {region} ({text!r})"))
    return refused


def stage_refusals(
    stage: str, config: Mapping[str, Any], policies: Mapping[str, Any], merge_template: Template
) -> list[str]:
    """Why `python -m infra build` must not write this stage: its variables in
    `.chalice/config.json` (top level, stage, each function), its functions' IAM policies,
    and its merge template (`template_refusals`)."""
    stage_config = config.get("stages", {}).get(stage, {})
    refused = _variable_refusals(
        {
            **config.get("environment_variables", {}),
            **stage_config.get("environment_variables", {}),
        },
        f"stage {stage} in .chalice/config.json",
    )
    for function, function_config in sorted(stage_config.get("lambda_functions", {}).items()):
        refused += _variable_refusals(
            function_config.get("environment_variables", {}),
            f"function {function} of stage {stage} in .chalice/config.json",
        )
    for function, policy in sorted(policies.items()):
        for path, text in _strings(policy, f"policy of {function}"):
            for region in _named_regions(text):
                refused.append(refusal(f"{path} names {region} ({text!r})"))
    return refused + template_refusals(merge_template)


def check_template(template: Template) -> None:
    """Raises ContentOutsideRegion with every refusal of `template_refusals`."""
    refused = template_refusals(template)
    if refused:
        raise ContentOutsideRegion(refused)
