#!/usr/bin/env python3
"""Checks what `sam deploy` would really create from template.yaml, offline: runs SAM's own
transform (aws-sam-translator) and asserts the parts cfn-lint cannot judge: every schedule has a
retry policy, a dead-letter queue its role may send to, and a per-stack name; every public
Function URL has both permissions AWS requires; no function is allowed to time-travel."""
import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
template, problems = decode(os.path.join(os.path.dirname(__file__), "..", "template.yaml"))
if problems:
    sys.exit(f"template.yaml does not parse: {problems}")
template = json.loads(json.dumps(template, default=str))
for resource in template["Resources"].values():
    if resource["Type"] == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"  # what `sam package` puts there


class NoManagedPolicies:
    def load(self):
        return {}


out = transform(template, {}, NoManagedPolicies())["Resources"]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


schedules = {k: v["Properties"] for k, v in out.items() if v["Type"] == "AWS::Scheduler::Schedule"}
for name, props in schedules.items():
    target = props["Target"]
    check("RetryPolicy" in target, f"{name}: no retry policy")
    dlq = target.get("DeadLetterConfig", {}).get("Arn")
    check(dlq is not None, f"{name}: no dead-letter queue")
    role = out[target["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    check(any(s["Action"] == "sqs:SendMessage" and s["Resource"] == dlq for s in statements),
          f"{name}: its role may not send to the dead-letter queue")
    check("AWS::StackName" in json.dumps(props.get("Name")), f"{name}: name not unique per stack")

urls = [k for k, v in out.items() if v["Type"] == "AWS::Lambda::Url"]
permissions = [v["Properties"] for v in out.values() if v["Type"] == "AWS::Lambda::Permission"]
for url in urls:
    function = out[url]["Properties"]["TargetFunctionArn"]
    actions = {p["Action"] for p in permissions if p["FunctionName"] == function and p.get("Principal") == "*"}
    check({"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"} <= actions,
          f"{url}: public URLs need lambda:InvokeFunctionUrl and lambda:InvokeFunction (got {sorted(actions)})")

functions = {k: v for k, v in out.items() if v["Type"] == "AWS::Lambda::Function"}
for name, f in functions.items():
    env = f["Properties"].get("Environment", {}).get("Variables", {})
    check("SECURITYBOT_TIME_TRAVEL" not in env, f"{name}: time travel is for local runs only")

if failures:
    sys.exit("template check failed:\n  " + "\n  ".join(failures))
print(f"template check: {len(functions)} functions, {len(schedules)} schedules (retries, DLQ, per-stack names), "
      f"{len(urls)} public Function URLs (both permissions): ok")
