"""Translates each SAM template with aws-sam-translator and prints, as JSON, the IAM roles it generates.

Usage: python .ci/sam-roles.py TEMPLATE...
Environment: SAM_ROLES_PARAMETERS, JSON {"<template path>": {"<parameter>": "<value>"}}: the values each
template is translated with (SAM resolves some intrinsics, such as `Tracing: !Ref Tracing`, from them).
Output: {"<template path>": {"<role logical id>": {"Condition": <name or null>, "ManagedPolicyArns": [...],
"Policies": [<policy document>...]}}}

The local stack builds the same roles itself (local/iam/roles.ts); tests/unit/local/iam/sam-roles.test.ts
compares the two. Intrinsics stay as the translator leaves them; the test resolves them. No AWS call is made:
code locations are replaced by dummy S3 URIs, as `sam validate` does, and managed policy names are not looked up.
"""

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


class NoManagedPolicyLookups:
    """The translator asks IAM for managed policy ARNs only for names in Policies; ours use none."""

    def load(self):
        return {}


def document_of(policy):
    """An inline policy's document; a conditional one (`Fn::If` in Policies) keeps its `Fn::If` for the test to resolve."""
    if isinstance(policy, dict) and "Fn::If" in policy:
        condition, when_true, when_false = policy["Fn::If"]
        return {"Fn::If": [condition, document_of(when_true), document_of(when_false)]}
    if isinstance(policy, dict) and "PolicyDocument" in policy:
        return policy["PolicyDocument"]
    return policy


def roles_of(path, parameter_values):
    with open(path, encoding="utf-8") as handle:
        template = yaml_parse(handle.read())
    # Roles the template declares itself are not SAM's to generate.
    declared = {logical_id for logical_id, resource in template.get("Resources", {}).items()
                if resource.get("Type") == "AWS::IAM::Role"}
    for resource in template.get("Resources", {}).values():
        props = resource.setdefault("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://bucket/key"
        elif resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["DefinitionUri"] = "s3://bucket/key"
        elif resource["Type"] == "AWS::Serverless::Application" and isinstance(props.get("Location"), str):
            props["Location"] = "s3://bucket/key"
    output = transform(template, parameter_values, NoManagedPolicyLookups())
    roles = {}
    for logical_id, resource in output["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role" or logical_id in declared:
            continue
        props = resource.get("Properties", {})
        roles[logical_id] = {
            # A conditional function's role carries its Condition; the test leaves it out when that is false.
            "Condition": resource.get("Condition"),
            "ManagedPolicyArns": props.get("ManagedPolicyArns", []),
            "Policies": [document_of(policy) for policy in props.get("Policies", [])],
        }
    return roles


if __name__ == "__main__":
    parameters = json.loads(os.environ.get("SAM_ROLES_PARAMETERS", "{}"))
    json.dump({path: roles_of(path, parameters.get(path, {})) for path in sys.argv[1:]}, sys.stdout, indent=1,
              sort_keys=True)
