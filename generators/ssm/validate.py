"""Checks of the rendered SSM artifacts (``mlmon check`` step ``ssm``).

1. Every body of ``ssm/<service>.json`` against botocore's SSM service model (``CreateDocument`` input:
   members, required fields, name pattern, enums, lengths), with the CloudWatch validator's shape walker.
2. Each ``Content`` against the Command document rules of schema 2.2 (AWS Systems Manager User Guide, "Data
   elements and parameters" and the ``aws:runShellScript`` plugin): top-level elements, parameter types
   and properties, ``{{ name }}`` references, step names, the plugin's inputs and its 48h timeout.
3. ``ssm/<service>.policy.json``: an IAM policy with no ``*`` action, no ``*`` resource, and a wildcard
   instance ARN only under an ``ssm:resourceTag/...`` condition.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

TOP_LEVEL = {"schemaVersion", "description", "parameters", "mainSteps"}
PARAMETER_TYPES = {"String", "StringList", "Integer", "Boolean", "MapList", "StringMap"}
PARAMETER_KEYS = {"type", "description", "default", "allowedValues", "allowedPattern", "displayType", "minItems",
                  "maxItems", "minChars", "maxChars", "interpolationType"}
STEP_KEYS = {"action", "name", "inputs", "precondition"}
SHELL_INPUTS = {"runCommand", "workingDirectory", "timeoutSeconds"}
PLATFORMS = {"Linux", "Windows", "MacOS"}
NAME = re.compile(r"^[a-zA-Z0-9_\-.]{1,128}$")
PARAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")
REFERENCE = re.compile(r"\{\{\s*([^}\s]+)\s*\}\}")
MAX_TIMEOUT = 172800


@lru_cache(maxsize=1)
def service_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("ssm")


def input_shape(operation: str):
    return service_model().operation_model(operation).input_shape


def body_errors(body) -> list[tuple[str, str]]:
    """(field, problem) of one ``CreateDocument`` body: botocore's model, then its ``Content``."""
    from ..cloudwatch.validate import shape_errors

    out = shape_errors(body, input_shape("CreateDocument"))
    if isinstance(body, dict):
        name = body.get("Name", "")
        if isinstance(name, str) and name.lower().startswith(("aws", "amazon", "amzn")):
            out.append(("Name", f"{name!r}: names starting with aws, amazon or amzn are reserved"))
        if body.get("DocumentType") != "Command" or body.get("DocumentFormat") != "JSON":
            out.append(("DocumentType", "mlmon renders Command documents in JSON"))
        try:
            doc = json.loads(body.get("Content", ""))
        except (TypeError, ValueError) as exc:
            return out + [("Content", f"not JSON: {exc}")]
        out.extend((f"Content.{p}" if p else "Content", m) for p, m in content_errors(doc))
    return out


def content_errors(doc) -> list[tuple[str, str]]:
    """(path, problem) of a Command document (schema 2.2, aws:runShellScript steps)."""
    if not isinstance(doc, dict):
        return [("", "a document is a JSON object")]
    out: list[tuple[str, str]] = []
    for k in sorted(set(doc) - TOP_LEVEL):
        out.append((k, "not a top-level element of a schema 2.2 document"))
    if doc.get("schemaVersion") != "2.2":
        out.append(("schemaVersion", f"expected \"2.2\", got {doc.get('schemaVersion')!r}"))
    params = doc.get("parameters", {})
    if not isinstance(params, dict):
        out.append(("parameters", "expected an object of parameters"))
        params = {}
    for name, p in params.items():
        where = f"parameters.{name}"
        if not PARAM_NAME.fullmatch(name):
            out.append((where, "parameter names are letters, digits, '_', '-' and '.'"))
        if not isinstance(p, dict):
            out.append((where, "expected an object"))
            continue
        for k in sorted(set(p) - PARAMETER_KEYS):
            out.append((f"{where}.{k}", "not a parameter property"))
        if p.get("type") not in PARAMETER_TYPES:
            out.append((f"{where}.type", f"one of {', '.join(sorted(PARAMETER_TYPES))} is required"))
        if "interpolationType" in p and p["interpolationType"] != "ENV_VAR":
            out.append((f"{where}.interpolationType", "the only interpolation type is ENV_VAR"))
        pattern = p.get("allowedPattern")
        if pattern is not None:
            try:
                rx = re.compile(pattern)
            except re.error as exc:
                out.append((f"{where}.allowedPattern", f"not a regular expression: {exc}"))
            else:
                if "default" in p and not rx.search(str(p["default"])):
                    out.append((f"{where}.default", f"{p['default']!r} does not match allowedPattern {pattern}"))
        elif p.get("type") == "String":
            out.append((f"{where}.allowedPattern", "a String parameter reaching a shell needs an allowedPattern"))
    steps = doc.get("mainSteps")
    if not isinstance(steps, list) or not steps:
        return out + [("mainSteps", "at least one step is required")]
    names: set[str] = set()
    text = json.dumps(steps)
    for ref in REFERENCE.findall(text):
        if ref not in params and not ref.startswith("ssm:"):
            out.append(("mainSteps", f"{{{{ {ref} }}}} names no parameter of the document"))
    for name, p in params.items():
        if p.get("interpolationType") == "ENV_VAR" and f"SSM_{name}" not in text and f"{{{{{name}}}}}" not in text \
                and not re.search(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", text):
            out.append((f"parameters.{name}", f"never used: the script does not read $SSM_{name}"))
    for i, step in enumerate(steps):
        where = f"mainSteps[{i}]"
        if not isinstance(step, dict):
            out.append((where, "expected an object"))
            continue
        for k in sorted(set(step) - STEP_KEYS):
            out.append((f"{where}.{k}", "not a step element"))
        name = step.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            out.append((f"{where}.name", f"{name!r}: 1-128 letters, digits, '_', '-' or '.'"))
        elif name in names:
            out.append((f"{where}.name", f"{name!r}: step names are unique"))
        names.add(name)
        if step.get("action") != "aws:runShellScript":
            out.append((f"{where}.action", f"{step.get('action')!r}: mlmon renders aws:runShellScript steps"))
        pre = step.get("precondition")
        if pre is not None and (not isinstance(pre, dict) or list(pre) != ["StringEquals"]
                                or not isinstance(pre["StringEquals"], list) or len(pre["StringEquals"]) != 2
                                or pre["StringEquals"][0] != "platformType" or pre["StringEquals"][1] not in PLATFORMS):
            out.append((f"{where}.precondition", 'expected {"StringEquals": ["platformType", "Linux"]}'))
        inputs = step.get("inputs")
        if not isinstance(inputs, dict):
            out.append((f"{where}.inputs", "expected an object"))
            continue
        for k in sorted(set(inputs) - SHELL_INPUTS):
            out.append((f"{where}.inputs.{k}", "not an input of aws:runShellScript"))
        rc = inputs.get("runCommand")
        if not isinstance(rc, list) or not rc or not all(isinstance(x, str) for x in rc):
            out.append((f"{where}.inputs.runCommand", "a non-empty list of shell lines is required"))
        wd = inputs.get("workingDirectory")
        if wd is not None and (not isinstance(wd, str) or not wd.startswith("/")):
            out.append((f"{where}.inputs.workingDirectory", f"{wd!r}: an absolute directory"))
        t = inputs.get("timeoutSeconds")
        if t is not None:
            try:
                seconds = int(str(t))
            except ValueError:
                seconds = 0
            if not 1 <= seconds <= MAX_TIMEOUT or isinstance(t, bool):
                out.append((f"{where}.inputs.timeoutSeconds", f"{t!r}: 1 to {MAX_TIMEOUT} seconds (48 hours)"))
    return out


def policy_errors(doc) -> list[tuple[str, str]]:
    """(path, problem) of on-call's IAM policy: least privilege, no wildcard action or resource."""
    if not isinstance(doc, dict) or doc.get("Version") != "2012-10-17" or not isinstance(doc.get("Statement"), list):
        return [("", 'an IAM policy document {"Version": "2012-10-17", "Statement": [...]}')]
    out = []
    for i, st in enumerate(doc["Statement"]):
        where = f"Statement[{i}]"
        actions = st.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        resources = st.get("Resource")
        resources = [resources] if isinstance(resources, str) else resources or []
        if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
            out.append((where, "only Allow statements with Action and Resource"))
        for a in actions:
            if "*" in a:
                out.append((f"{where}.Action", f"{a!r}: wildcard action"))
        if not resources:
            out.append((f"{where}.Resource", "no resource"))
        for r in resources:
            if r == "*":
                out.append((f"{where}.Resource", "\"*\": every resource"))
            elif "*" in r:
                tagged = any(k.startswith("ssm:resourceTag/") for k in (st.get("Condition") or {}).get("StringEquals", {}))
                if not (re.fullmatch(r"arn:aws:ec2:[a-z0-9-]+:(\d{12}|\$\{aws:PrincipalAccount\}):instance/\*", r) and tagged
                        and actions == ["ssm:SendCommand"]):
                    out.append((f"{where}.Resource", f"{r!r}: a wildcard is only allowed for instances "
                                                     "scoped by an ssm:resourceTag condition"))
    return out


def verify_step(out, catalog, env: str) -> list[str]:
    from ..rendered import as_rendered

    rendered = as_rendered(out, env)
    failures = []
    for fname in rendered.names("ssm", ".json"):
        data = rendered.json(f"ssm/{fname}")
        if fname.endswith(".policy.json"):
            failures.extend(f"ssm ({env}) {fname}: {p or '(policy)'}: {m}" for p, m in policy_errors(data))
            continue
        for i, body in enumerate(data if isinstance(data, list) else [data]):
            name = body.get("Name", f"[{i}]") if isinstance(body, dict) else f"[{i}]"
            failures.extend(f"ssm ({env}) {fname} {name}: {p}: {m}" for p, m in body_errors(body))
    return failures
