"""Banks as YAML: read node by node with their lines, never constructing tagged objects; write back.

`yaml.compose` builds nodes without running any constructor, so `!!python/object/apply:...`
is only a tag to refuse. Only the YAML core scalar, list and mapping tags are accepted.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .parsed import BankError, Located, ParsedBank
from .schema import Report, build_bank

if TYPE_CHECKING:
    from ..models import BankVersion

CORE = "tag:yaml.org,2002:"
SCALAR_TAGS = {f"{CORE}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
AS_WRITTEN_TAGS = {f"{CORE}str", f"{CORE}timestamp"}  # a date stays the text the organizer typed


def parse_yaml(text: str, filename: str) -> tuple[ParsedBank | None, list[BankError]]:
    """The bank, or None and every error of the file, each with its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None, [BankError(filename, 1, "file", "文件是空的：应包含 bank 和 questions")]
        report = Report(filename)
        root = _Locator(report).locate(node, "")
    except yaml.YAMLError as exc:
        return None, [_syntax_error(exc, text, filename)]
    except RecursionError:
        return None, [BankError(filename, 1, "file", "嵌套层次太深，不像是题库文件")]
    bank, errors = build_bank(root, filename, Path(filename).name)
    named = [_by_qid(error, root) for error in report.errors]
    return None if named else bank, sorted(named + errors, key=lambda e: e.line)


def _by_qid(error: BankError, root: Located) -> BankError:
    """`questions[3].stem` → `traffic-004.stem`, as the schema names fields once the id is known."""
    match = re.match(r"questions\[(\d+)\]", error.field)
    questions = root.value.get("questions") if isinstance(root.value, dict) else None
    if not match or questions is None or not isinstance(questions.value, list):
        return error
    question = questions.value[int(match.group(1))].value
    qid = question.get("id") if isinstance(question, dict) else None
    if qid is None or not isinstance(qid.as_written(), str | int):
        return error
    return replace(error, field=f"{qid.as_written()}{error.field[match.end() :]}")


def _syntax_error(exc: yaml.YAMLError, text: str, filename: str) -> BankError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line = mark.line + 1
    else:  # a ReaderError (control character) knows only its offset
        line = text.count("\n", 0, getattr(exc, "position", 0)) + 1
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    detail = f"{problem}（{context}）" if context else problem
    return BankError(filename, line, "syntax", f"YAML 语法错误：{detail}")


def _tag_text(tag: str) -> str:
    return "!!" + tag[len(CORE) :] if tag.startswith(CORE) else tag


ALIAS_REFUSED = "列表或映射不能用别名（*名称）重复引用，请直接写出内容"


class _Locator:
    """Turns nodes into a Located tree. An alias to a text is fine; a second visit of a list or
    mapping (an alias, or a node holding itself) is refused, so no later step, message or loop
    can expand an alias bomb: the tree is never bigger than the file."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.constructor = SafeConstructor()
        self.done: dict[int, Located] = {}

    def locate(self, node: Node, path: str, used_at: int = 0) -> Located:
        """`used_at`: the line of the key or list holding the node (an alias has no mark)."""
        if id(node) in self.done:
            if isinstance(node, ScalarNode):
                return self.done[id(node)]
            return self._refuse(used_at or node.start_mark.line + 1, path, ALIAS_REFUSED)
        self.done[id(node)] = self._locate(node, path)
        return self.done[id(node)]

    def _locate(self, node: Node, path: str) -> Located:
        line = node.start_mark.line + 1
        if isinstance(node, ScalarNode) and node.tag in SCALAR_TAGS:
            return self._scalar(node, path, line)
        if isinstance(node, SequenceNode) and node.tag == f"{CORE}seq":
            items: list[Located] = []
            self.done[id(node)] = located = Located(items, line)
            items.extend(
                self.locate(item, f"{path}[{i}]", line) for i, item in enumerate(node.value)
            )
            return located
        if isinstance(node, MappingNode) and node.tag == f"{CORE}map":
            mapping: dict[str, Located] = {}
            self.done[id(node)] = located = Located(mapping, line)
            self._fill(node, path, mapping)
            return located
        return self._refuse(
            line, path, f"unsafe or unknown YAML tag（不安全或未知的标签）：{_tag_text(node.tag)}"
        )

    def _scalar(self, node: ScalarNode, path: str, line: int) -> Located:
        if node.tag in AS_WRITTEN_TAGS:
            return Located(node.value, line, text=node.value)
        try:
            value: Any = self.constructor.construct_object(node)
        except (ValueError, KeyError, yaml.YAMLError):
            return self._refuse(line, path, f"无法把 {node.value!r} 读作 {_tag_text(node.tag)}")
        return Located(value, line, text=node.value)

    def _fill(self, node: MappingNode, path: str, mapping: dict[str, Located]) -> None:
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag not in SCALAR_TAGS:
                self._refuse(line, path, f"字段名必须是简单文字，不能是 {_tag_text(key_node.tag)}")
                continue
            key = key_node.value
            child = f"{path}.{key}" if path else key
            if key in mapping:
                first = mapping[key].line
                self.report.add(
                    Located(key, line), child, f"字段 {key} 重复（首次出现在第 {first} 行）"
                )
                continue
            value = self.locate(value_node, child, line)
            mapping[key] = replace(value, line=line)  # a field's problems point at its key

    def _refuse(self, line: int, path: str, message: str) -> Located:
        self.report.add(Located(None, line), path or "file", message)
        return Located(None, line, rejected=True)


class _Dumper(yaml.SafeDumper):
    """Hand-written layout: lists of scalars and categories inline, multi-line text as `|`."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented under their key


class _Inline(dict[str, Any]):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar(f"{CORE}str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    inline = all(not isinstance(item, list | dict) for item in value)
    return dumper.represent_sequence(f"{CORE}seq", value, flow_style=inline)


def _represent_inline(dumper: yaml.SafeDumper, value: _Inline) -> yaml.Node:
    return dumper.represent_mapping(f"{CORE}map", value.items(), flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_Inline, _represent_inline)


def export_yaml(version: BankVersion) -> str:
    """The stored version as a bank file; loading it back gives the same content hash."""
    header = f"# {version.bank.slug} 第 {version.number} 版（quiz-server 导出）\n"
    return header + dump_yaml(ParsedBank.from_version(version))


def dump_yaml(bank: ParsedBank) -> str:
    content = bank.content()
    content["bank"]["categories"] = [_Inline(c) for c in content["bank"]["categories"]]
    data = {
        "bank": _without_defaults(content["bank"]),
        "questions": [_without_defaults(q) for q in content["questions"]],
    }
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1_000_000,
    )


def _without_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    """Empty optional fields are left out; the reader supplies the same defaults."""
    return {k: v for k, v in fields.items() if v not in ("", None, [])}
