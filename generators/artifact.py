"""One rendered output file: :class:`Artifact` (its path, its content as data, and how it serialises)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import yamlio


@dataclass(frozen=True)
class Artifact:
    path: str  # relative, with forward slashes, e.g. "prometheus/rl-feedback-loop.rules.yaml"
    content: Any  # a dict/list (JSON or YAML document), or a list of documents for multi-document YAML
    service: str = ""
    multi: bool = False

    def serialize(self) -> bytes:
        if self.path.endswith(".json"):
            return (json.dumps(self.content, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode()
        if self.multi:
            return yamlio.dump_all(self.content).encode()
        if isinstance(self.content, str):
            return self.content.encode()
        return yamlio.dump(self.content).encode()
