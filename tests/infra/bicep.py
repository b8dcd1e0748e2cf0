"""The Bicep templates, parsed offline with pycep-parser, and a small evaluator for the
expressions the policy tests need (literals, parameters, variables, conditionals,
comparisons, integer arithmetic, string(), union(), empty(), min(), max()). Anything it cannot know before deployment
(resource properties, module outputs, uniqueString) evaluates to an `Unknown`.

pycep represents identifiers and string literals alike; a string is read as a reference
when it names a parameter or variable in scope.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
PARAMETER_FILES = sorted(INFRA.glob("*.parameters.json"))
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Unknown:
    """A value only Azure knows (an output, a resource property, a function we do not model)."""

    expression: Any = None


@cache
def parse(path: Path) -> dict:
    from pycep import BicepParser

    return BicepParser().parse(file_path=path)


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


def load_parameter_file(path: Path) -> dict[str, Any]:
    """Parameter values; azd placeholders (`${AZURE_ENV_NAME}`) stay strings."""
    return {name: entry["value"] for name, entry in json.loads(path.read_text())["parameters"].items()}


@dataclass
class Scope:
    template: dict
    values: dict[str, Any]
    path: Path = MAIN
    _resolving: set[str] = field(default_factory=set)

    def lookup(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.template.get("parameters", {}):
            return self.evaluate(self.template["parameters"][name].get("default", Unknown(name)))
        if name in self.template.get("variables", {}) and name not in self._resolving:
            self._resolving.add(name)
            try:
                return self.evaluate(self.template["variables"][name]["value"])
            finally:
                self._resolving.discard(name)
        return Unknown(name)

    def is_reference(self, text: str) -> bool:
        return (
            text in self.values
            or text in self.template.get("parameters", {})
            or text in self.template.get("variables", {})
        )

    def evaluate(self, expr: Any) -> Any:
        if isinstance(expr, str):
            return self.lookup(expr) if self.is_reference(expr) else self._interpolate(expr)
        if isinstance(expr, list):
            return [self.evaluate(item) for item in expr]
        if isinstance(expr, dict) and set(expr) == {"operator"}:
            return self._operator(expr["operator"]["type"], expr["operator"]["operands"])
        if isinstance(expr, dict) and set(expr) == {"function"}:
            return self._function(expr["function"]["type"], expr["function"]["parameters"])
        if isinstance(expr, dict) and "loop_type" in expr:
            return Unknown(expr)
        if isinstance(expr, dict):
            return {key.strip("'"): self.evaluate(value) for key, value in expr.items()}
        return expr

    def _interpolate(self, text: str) -> str:
        def substitute(match: re.Match) -> str:
            value = self.lookup(match.group(1))
            return match.group(0) if isinstance(value, (Unknown, dict, list)) else bicep_string(value)

        return INTERPOLATION.sub(substitute, text)

    def _operator(self, kind: str, operands: dict) -> Any:
        if kind == "conditional":
            condition = self.evaluate(operands["condition"])
            if isinstance(condition, Unknown):
                return Unknown(operands)
            return self.evaluate(operands["true_value" if condition else "false_value"])
        if kind == "not":
            value = self.evaluate(operands["bool_value"])
            return value if isinstance(value, Unknown) else not value
        left, right = self.evaluate(operands.get("operand_1")), self.evaluate(operands.get("operand_2"))
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return Unknown(operands)
        binary = {
            "equals": lambda: left == right,
            "not_equals": lambda: left != right,
            "and": lambda: left and right,
            "or": lambda: left or right,
            "add": lambda: left + right,
            "substract": lambda: left - right,  # pycep's spelling
            "multiply": lambda: left * right,
            "divide": lambda: int(left / right),  # Bicep's int division truncates toward zero
        }
        return binary[kind]() if kind in binary else Unknown(operands)

    def _function(self, kind: str, parameters: dict) -> Any:
        args = [self.evaluate(value) for value in parameters.values() if value is not None]
        if any(isinstance(arg, Unknown) for arg in args):
            return Unknown(parameters)
        if kind == "string":
            return bicep_string(args[0])
        if kind == "union" and all(isinstance(arg, dict) for arg in args):
            return {key: value for arg in args for key, value in arg.items()}
        if kind == "empty":
            return not args[0]
        if kind in ("min", "max") and all(isinstance(arg, int) for arg in args):
            return min(args) if kind == "min" else max(args)
        return Unknown(parameters)


def bicep_string(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def main_scope(parameter_file: Path) -> Scope:
    return Scope(parse(MAIN), load_parameter_file(parameter_file), MAIN)


def module_scope(parent: Scope, module_name: str) -> Scope:
    """The scope a module runs in: its parameters as the parent passes them."""
    module = parent.template["modules"][module_name]
    path = (parent.path.parent / module["detail"]["path"]).resolve()
    config = module["config"]
    while "params" not in config:  # conditional and looped modules nest their body
        config = config["config"]
    values = {name: parent.evaluate(expr) for name, expr in config["params"].items()}
    return Scope(parse(path), values, path)


def resources_of_type(scope: Scope, resource_type: str) -> dict[str, dict]:
    return {
        name: resource
        for name, resource in scope.template.get("resources", {}).items()
        if resource["type"] == resource_type
    }


def resource_properties(scope: Scope, resource_name: str) -> dict:
    config = scope.template["resources"][resource_name]["config"]
    return scope.evaluate(config.get("properties", {}))
