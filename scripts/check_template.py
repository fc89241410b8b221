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
# The internet-facing functions can be capped, so a flood cannot take the account's concurrency.
for url in urls:
    name = out[url]["Properties"]["TargetFunctionArn"]["Ref"]
    check("ReservedConcurrentExecutions" in functions[name]["Properties"],
          f"{name}: public, but its concurrency cannot be capped (PublicFunctionConcurrency)")
for name, f in functions.items():
    env = f["Properties"].get("Environment", {}).get("Variables", {})
    check("SECURITYBOT_TIME_TRAVEL" not in env, f"{name}: time travel is for local runs only")

# Alarms must reach a person: CloudWatch cannot publish to a topic under the AWS-managed SNS
# key, so the alarm topic has its own key whose policy lets CloudWatch use it.
topics = {k: v["Properties"] for k, v in out.items() if v["Type"] == "AWS::SNS::Topic"}
for name, props in topics.items():
    key = props.get("KmsMasterKeyId")
    check(key != "alias/aws/sns", f"{name}: CloudWatch cannot publish under alias/aws/sns")
    if isinstance(key, dict) and "Ref" in key:
        policy = json.dumps(out[key["Ref"]]["Properties"]["KeyPolicy"])
        check("cloudwatch.amazonaws.com" in policy, f"{name}: its key does not let CloudWatch publish")
alarms = [v["Properties"] for v in out.values() if v["Type"] == "AWS::CloudWatch::Alarm"]
for alarm in alarms:
    check(alarm.get("AlarmActions"), f"alarm without actions: {alarm.get('AlarmDescription')}")
    check(alarm.get("AlarmDescription"), "alarm without a description (what to do)")
watched = {json.dumps(d["Value"]) for a in alarms if a.get("MetricName") == "Errors" for d in a["Dimensions"]}
for name in functions:
    check(json.dumps({"Ref": name}) in watched, f"{name}: no alarm on its errors")
for name, f in functions.items():
    if any(s.get("Target", {}).get("Arn", {}).get("Fn::GetAtt", [None])[0] == name for s in schedules.values()):
        configs = [v["Properties"] for v in out.values() if v["Type"] == "AWS::Lambda::EventInvokeConfig"
                   and v["Properties"]["FunctionName"] == {"Ref": name}]
        check(any(c.get("DestinationConfig", {}).get("OnFailure") for c in configs),
              f"{name}: a scheduled function without an on-failure destination (failed runs vanish)")

# Every function's logs expire: a log group of its own, named as Lambda names it, with a retention.
log_groups = [v["Properties"] for v in out.values() if v["Type"] == "AWS::Logs::LogGroup"]
for name in functions:
    named = [g for g in log_groups if json.dumps(g.get("LogGroupName")) ==
             json.dumps({"Fn::Sub": f"/aws/lambda/${{{name}}}"})]
    check(named and named[0].get("RetentionInDays"), f"{name}: no log group with a retention")

# Secrets by purpose: each function may read exactly the secrets it is handed (*_SECRET_ID, and
# the rules document RULES_CONFIG_ID),
# the internet-facing webhook only its keys, and every secret outlives the stack (the people
# table, which is kept, holds seeds only the second-factor secret can open).
secrets = {k: v for k, v in out.items() if v["Type"] == "AWS::SecretsManager::Secret"}
for name, secret in secrets.items():
    check(secret.get("DeletionPolicy") == "Retain" and secret.get("UpdateReplacePolicy") == "Retain",
          f"{name}: deleted with the stack")
for name, f in functions.items():
    env = f["Properties"].get("Environment", {}).get("Variables", {})
    handed = {json.dumps(v) for k, v in env.items() if k.endswith("_SECRET_ID") or k == "RULES_CONFIG_ID"}
    role = out[f["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    readable = set()
    for statement in (s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(a.startswith("secretsmanager:") for a in actions):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            readable |= {json.dumps(r) for r in resources}
    check(readable == handed, f"{name}: may read secrets {sorted(readable)} but is handed {sorted(handed)}")
    check("SECRET_ID" not in env, f"{name}: one secret for everything (SECRET_ID) is gone; name each purpose")
for url in urls:
    name = out[url]["Properties"]["TargetFunctionArn"]["Ref"]
    env = functions[name]["Properties"].get("Environment", {}).get("Variables", {})
    if "WEBHOOK_SECRET_ID" in env:
        check([k for k in env if k.endswith("_SECRET_ID")] == ["WEBHOOK_SECRET_ID"],
              f"{name}: the webhook is internet-facing and may read only its keys")

# The dashboard: valid JSON once substituted, every function and queue on it, and every metric
# the code emits (the names in shared/src/core/metrics.rs) graphed.
import re
dashboards = [v["Properties"] for v in out.values() if v["Type"] == "AWS::CloudWatch::Dashboard"]
check(len(dashboards) == 1, "no dashboard")
for d in dashboards:
    text = d["DashboardBody"]["Fn::Sub"] if isinstance(d["DashboardBody"], dict) else d["DashboardBody"]
    try:
        json.loads(re.sub(r"\$\{[^}]+\}", "x", text))
    except ValueError as e:
        check(False, f"dashboard body is not JSON: {e}")
    for name in functions:
        check("${%s}" % name in text, f"dashboard: {name} missing")
    for name, v in out.items():
        if v["Type"] == "AWS::SQS::Queue":
            check("${%s.QueueName}" % name in text, f"dashboard: queue {name} missing")
    source = open(os.path.join(os.path.dirname(__file__), "..", "shared", "src", "core", "metrics.rs")).read()
    emitted = set(re.findall(r'\("([A-Za-z]+)", (?:COUNT|SECONDS)', source))
    check(len(emitted) >= 10, f"found only {sorted(emitted)} in core/metrics.rs")
    for metric in emitted:
        check(f'"{metric}"' in text or f'\\"{metric}\\"' in text, f"dashboard: metric {metric} not graphed")

if failures:
    sys.exit("template check failed:\n  " + "\n  ".join(failures))
print(f"template check: {len(functions)} functions, {len(schedules)} schedules (retries, DLQ, per-stack names), "
      f"{len(urls)} public Function URLs (both permissions), {len(alarms)} alarms (to a topic CloudWatch "
      f"may publish to; every function's errors; failed scheduled runs kept), {len(log_groups)} log groups "
      f"with a retention, a dashboard with every function, queue and metric, {len(secrets)} secrets (kept, each read only by what it is handed to): ok")
