"""A LocalStack (CloudWatch, SNS, SQS) on 127.0.0.1 for the whole test session, and the AWS plumbing the
LocalStack tests share: SNS topics with one SQS queue subscribed each, putting rendered alarms, reading the
notifications back.

LocalStack runs from its own virtualenv (``.venv-localstack``, made by ``scripts/install-localstack.sh``,
which ``.ci/run`` calls) as ``python -m localstack.runtime.main``: no Docker. Everything it writes goes
under a temporary directory (``FILESYSTEM_ROOT``, ``LOCALSTACK_VOLUME_DIR``, ``TMPDIR``, ``HOME``);
``OVERRIDE_IN_DOCKER=0`` keeps it from taking this container for its own image and writing to
``/var/lib/localstack``. Where it is not installed or does not start, the tests skip with the reason
(and under ``CI=true`` a skip fails the run: tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv-localstack" / "bin" / "python"
INSTALL = "bash scripts/install-localstack.sh"
START_TIMEOUT = 90.0


@dataclass
class LocalStack:
    url: str
    log: Path
    _accounts: list[str] = field(default_factory=list)

    def client(self, service: str, account: str, region: str = "us-east-1"):
        """A boto3 client for ``account`` (LocalStack takes a 12-digit access key id as the account id, so
        every scenario gets stores of its own)."""
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name=region, aws_access_key_id=account,
                            aws_secret_access_key="test")

    def new_account(self) -> str:
        self._accounts.append(f"{100000000000 + len(self._accounts) + 1}")
        return self._accounts[-1]

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_localstack/health", timeout=2) as r:
            services = json.load(r).get("services", {})
    except (OSError, ValueError):
        return False
    return all(services.get(s) in ("available", "running") for s in ("cloudwatch", "sns", "sqs"))


def start(tmp: Path):
    """Start LocalStack; returns ``(LocalStack, process)`` or ``(None, reason)`` when it cannot run here."""
    if not PYTHON.exists():
        return None, f"LocalStack is not installed ({PYTHON.relative_to(ROOT)} missing; run `{INSTALL}`, .ci/run does)"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "localstack.log"
    for d in ("root", "volume", "tmp", "home"):
        (tmp / d).mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(tmp / "home"),
        "TMPDIR": str(tmp / "tmp"),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "SERVICES": "cloudwatch,sns,sqs",
        "LOCALSTACK_VOLUME_DIR": str(tmp / "volume"),
        "FILESYSTEM_ROOT": str(tmp / "root"),
        "OVERRIDE_IN_DOCKER": "0",
        "DNS_ADDRESS": "0",             # no DNS server (it would try port 53 and the network)
        "SKIP_SSL_CERT_DOWNLOAD": "1",  # use a self-signed certificate; there is no network to fetch one
        "DISABLE_EVENTS": "1",          # no analytics
        "EAGER_SERVICE_LOADING": "1",   # load cloudwatch, sns, sqs before reporting healthy
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(PYTHON), "-m", "localstack.runtime.main"], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=tmp,
                                start_new_session=True)
    ls = LocalStack(url, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None, f"LocalStack exited with {proc.returncode} at start:\n{ls.log_tail()}"
        if _healthy(url):
            return ls, proc
        time.sleep(0.25)
    stop(proc)
    return None, f"LocalStack did not become healthy within {START_TIMEOUT:.0f}s:\n{ls.log_tail()}"


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to LocalStack's process group (it shuts its scheduler and servers down), SIGKILL after 20 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


# ----------------------------------------------------------------------------------------------
# deploying rendered artifacts and reading what they do


@dataclass
class Deployed:
    cw: object
    sqs: object
    arn_by_topic: dict[str, str]
    queue_by_topic: dict[str, str]
    alarms: list[dict]
    account: str


def deploy_topics(ls: LocalStack, account: str, topics: list[dict], region: str = "us-east-1"):
    """Create every rendered topic with one SQS queue subscribed; returns (arn_by_topic, queue_by_topic)."""
    sns, sqs = ls.client("sns", account, region), ls.client("sqs", account, region)
    arns, queues = {}, {}
    for t in topics:
        arn = sns.create_topic(Name=t["Name"])["TopicArn"]
        url = sqs.create_queue(QueueName=f"{t['Name']}-inbox")["QueueUrl"]
        qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
        arns[t["Name"]], queues[t["Name"]] = arn, url
    return arns, queues


def by_arn(rule: str, account: str, region: str = "us-east-1") -> str:
    """A composite ``AlarmRule`` with every ``ALARM("name")`` written ``ALARM("arn:...:alarm:name")``: the
    same rule for CloudWatch (it accepts names and ARNs), the form LocalStack evaluates."""
    import re

    return re.sub(r'\b(ALARM|OK|INSUFFICIENT_DATA)\("(?!arn:)([^"]+)"\)',
                  lambda m: f'{m[1]}("arn:aws:cloudwatch:{region}:{account}:alarm:{m[2]}")', rule)


def states(cw, names: list[str]) -> dict[str, tuple[str, str]]:
    """``{alarm name: (StateValue, StateReason)}`` for metric and composite alarms."""
    r = cw.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return {a["AlarmName"]: (a["StateValue"], a["StateReason"]) for a in r["MetricAlarms"] + r["CompositeAlarms"]}


def drain(sqs, queue_by_topic: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """Every notification waiting in the topics' queues: ``(topic, alarm, new state, old state)``."""
    out = []
    for topic, url in queue_by_topic.items():
        while True:
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not msgs:
                break
            for m in msgs:
                envelope = json.loads(m["Body"])
                body = json.loads(envelope["Message"])
                out.append((topic, body["AlarmName"], body["NewStateValue"], body["OldStateValue"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def wait_for(predicate, timeout: float, interval: float = 0.25, tick=None):
    """Poll ``predicate()`` until it returns a truthy value (returned) or ``timeout`` seconds pass (returns
    the last value). ``tick()`` runs before every poll (e.g. to keep publishing metric data)."""
    deadline = time.monotonic() + timeout
    while True:
        if tick is not None:
            tick()
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
