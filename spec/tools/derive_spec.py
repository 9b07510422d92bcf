#!/usr/bin/env python3
"""Derive spec/epayment.yaml, spec/access-token.yaml and spec/webhooks.yaml.

The STRUCTURE (paths, operations, parameters, responses, schemas, constraints,
titles, enums, x- extensions, ...) is taken unchanged from the official Vipps
MobilePay documents kept outside this repository in ../shared/vipps
(epayment-1.8.1.yaml, access-token-2.0.0.yaml, webhooks-v1.yaml).  Every
piece of PROSE
(description, summary) and every EXAMPLE (example, examples, x-examples) is
replaced by our own text and values from the hand-written table
tools/prose.yaml.  The script fails if the table misses an entry, holds a
stale one, or if any text or example equals (or, for text, shares an
8-word phrase with) the official document.

Usage:  python3 spec/tools/derive_spec.py [--official DIR]
Rerunnable; it overwrites the output files (one per entry of the table).  An
output whose current text already parses to exactly the derived document (same
values, same key order) but is wrapped differently is left as it is, so that
files hashed by the generated crate do not change for formatting alone.
"""
import argparse
import copy
import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent
DEFAULT_OFFICIAL = SPEC.parent.parent / "shared" / "vipps"

PROSE_KEYS = ("description", "summary")
EXAMPLE_KEYS = ("example", "examples", "x-examples")
# info keys we never carry over from the official document
INFO_DROP = ("contact", "license", "termsOfService", "x-logo")


class DeriveError(Exception):
    pass


# --------------------------------------------------------------------- pointers
def esc(key):
    return str(key).replace("~", "~0").replace("/", "~1")


def unesc(tok):
    return tok.replace("~1", "/").replace("~0", "~")


def resolve(doc, pointer):
    node = doc
    if pointer in ("", "/"):
        return node
    for tok in pointer.lstrip("/").split("/"):
        tok = unesc(tok)
        if isinstance(node, list):
            node = node[int(tok)]
        elif isinstance(node, dict) and tok in node:
            node = node[tok]
        else:
            raise DeriveError(f"pointer {pointer!r} does not resolve (at {tok!r})")
    return node


def prose_sites(node, ptr="", in_props=False, out=None):
    """Yield (owner_pointer, key) for every description/summary/example(s) key.

    Keys of a `properties` map are property NAMES, never keywords, so they are
    not treated as prose even when a property is called `description`.
    """
    if out is None:
        out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if not in_props and k in PROSE_KEYS + EXAMPLE_KEYS:
                out.append((ptr, k))
                continue
            prose_sites(v, f"{ptr}/{esc(k)}", k == "properties" and not in_props, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            prose_sites(v, f"{ptr}/{i}", False, out)
    return out


# ------------------------------------------------------------------ restriction
def collect_refs(node, acc):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                acc.add(v)
            else:
                collect_refs(v, acc)
    elif isinstance(node, list):
        for v in node:
            collect_refs(v, acc)
    return acc


def restrict(doc, keep_paths):
    """Keep only the given paths plus the components and tags they reach."""
    doc["paths"] = {p: doc["paths"][p] for p in keep_paths}
    reached = set()
    todo = collect_refs({k: v for k, v in doc.items() if k != "components"}, set())
    # security requirements name security schemes without a $ref
    sec = [doc.get("security", [])]
    for item in doc["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and "security" in op:
                sec.append(op["security"])
    for lst in sec:
        for req in lst:
            for name in req:
                todo.add(f"#/components/securitySchemes/{name}")
    while todo:
        ref = todo.pop()
        if ref in reached:
            continue
        reached.add(ref)
        if not ref.startswith("#/"):
            continue
        collect_refs(resolve(doc, ref[1:]), todo)
    comps = doc.get("components", {})
    for section in list(comps):
        kept = {n: s for n, s in comps[section].items()
                if f"#/components/{section}/{esc(n)}" in reached}
        if kept:
            comps[section] = kept
        else:
            del comps[section]
    used_tags = set()
    for item in doc["paths"].values():
        for op in item.values():
            if isinstance(op, dict):
                used_tags.update(op.get("tags", []))
    if "tags" in doc:
        doc["tags"] = [t for t in doc["tags"] if t["name"] in used_tags]
    return doc


# ------------------------------------------------------------------ originality
WORD = re.compile(r"[a-z0-9]+")


def words(text):
    return WORD.findall(text.lower())


def shingles(text, n=8):
    w = words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def official_strings(node, acc):
    if isinstance(node, dict):
        for v in node.values():
            official_strings(v, acc)
    elif isinstance(node, list):
        for v in node:
            official_strings(v, acc)
    elif isinstance(node, str):
        acc.append(node)
    return acc


def has_ref(node):
    if isinstance(node, dict):
        return "$ref" in node or any(has_ref(v) for v in node.values())
    if isinstance(node, list):
        return any(has_ref(v) for v in node)
    return False


# ---------------------------------------------------------------------- derive
def derive(official, table, name):
    doc = copy.deepcopy(official)
    if "keep_paths" in table:
        doc = restrict(doc, table["keep_paths"])
        official_view = copy.deepcopy(doc)
    else:
        official_view = official

    # info: keep version/title, drop contact/license/..., then add our own keys
    for k in INFO_DROP:
        doc["info"].pop(k, None)
    for k, v in table.get("info", {}).items():
        doc["info"][k] = v

    describe = table.get("describe", {})
    examples = {"example": table.get("example", {}),
                "examples": table.get("examples", {}),
                "x-examples": table.get("x-examples", {})}
    drop = set(table.get("drop", []))
    used = set()
    errors = []

    for owner, key in prose_sites(official_view):
        site = f"{owner}/{key}"
        parent = resolve(doc, owner)
        if site in drop:
            del parent[key]
            used.add(("drop", site))
            continue
        if key in PROSE_KEYS:
            entry = describe.get(owner)
            if isinstance(entry, str):
                entry = {"description": entry}
            if not entry or key not in entry:
                errors.append(f"{name}: no own {key} for {owner}")
                continue
            parent[key] = entry[key]
            used.add(("describe", owner, key))
        else:
            if owner not in examples[key]:
                errors.append(f"{name}: no own {key} for {owner}")
                continue
            parent[key] = examples[key][owner]
            used.add((key, owner))

    # table entries that add prose/examples where the official has none
    for owner, entry in describe.items():
        if isinstance(entry, str):
            entry = {"description": entry}
        for key, text in entry.items():
            if ("describe", owner, key) in used:
                continue
            parent = resolve(doc, owner)
            if key in parent:
                errors.append(f"{name}: {owner}/{key} exists but was not replaced")
            parent[key] = text
            used.add(("describe", owner, key))
    for key, entries in examples.items():
        for owner, value in entries.items():
            if (key, owner) in used:
                continue
            parent = resolve(doc, owner)
            if not isinstance(parent, dict):
                errors.append(f"{name}: {owner} is not an object")
                continue
            parent[key] = value
            used.add((key, owner))
    for site in drop:
        if ("drop", site) not in used:
            errors.append(f"{name}: stale drop entry {site}")

    # ------------------------------------------------------------ originality
    off_text = [s for s in official_strings(official, []) if len(words(s)) >= 8]
    off_sh = set()
    for s in off_text:
        off_sh |= shingles(s)
    for owner, key in prose_sites(doc):
        ours = resolve(doc, owner)[key]
        try:
            theirs = resolve(official_view, owner).get(key)
        except (DeriveError, KeyError, IndexError, ValueError, AttributeError):
            theirs = None
        if theirs is not None and ours == theirs:
            errors.append(f"{name}: {owner}/{key} still equals the official value")
        if key in PROSE_KEYS:
            if not isinstance(ours, str):
                errors.append(f"{name}: {owner}/{key} is not a string")
                continue
            common = shingles(ours) & off_sh
            if common:
                errors.append(f"{name}: {owner}/{key} shares a phrase with the official text: "
                              + " ".join(sorted(common)[0]))
        elif has_ref(ours):
            errors.append(f"{name}: {owner}/{key} contains $ref")
    if errors:
        raise DeriveError("\n".join(errors))
    return doc


# ------------------------------------------------------------------------ dump
class QStr(str):
    """A string that is always written quoted (patterns, enum values, examples)."""


class Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper, s):
    if "\n" in s:
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", s)


def _qstr(dumper, s):
    if "\n" in s:
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(s), style="'")


Dumper.add_representer(str, _str)
Dumper.add_representer(QStr, _qstr)


def mark_quoted(node, key=None, in_example=False, in_props=False):
    """Wrap strings that should be quoted in QStr (returns a new tree)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            ex = in_example or (not in_props and k in EXAMPLE_KEYS)
            out[k] = mark_quoted(v, k, ex, k == "properties" and not in_props and not in_example)
        return out
    if isinstance(node, list):
        quote_items = in_example or key in ("enum", "x-enum-varnames")
        return [mark_quoted(v, None, in_example) if not isinstance(v, str)
                else (QStr(v) if quote_items else v) for v in node]
    if isinstance(node, str):
        if in_example or key in ("pattern", "default"):
            return QStr(node)
    return node


HEADER = ("# GENERATED by spec/tools/derive_spec.py from the official {src}\n"
          "# (structure only); all descriptions, summaries and examples are our own\n"
          "# (spec/tools/prose.yaml). Edit the table and rerun instead of editing here.\n")


def _same_document(old_text, new_text):
    """Whether two YAML texts hold the same tree, key order and scalar types included."""
    def canon(text):
        return json.dumps(yaml.safe_load(text), sort_keys=False, default=str)
    try:
        return canon(old_text) == canon(new_text)
    except yaml.YAMLError:
        return False


def dump(doc, path, src):
    """Write the document; returns 'wrote', 'unchanged' or 'kept' (equivalent text kept)."""
    text = HEADER.format(src=src) + yaml.dump(
        mark_quoted(doc), Dumper=Dumper, sort_keys=False,
        default_flow_style=False, allow_unicode=True, width=100, indent=2)
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old == text:
        return "unchanged"
    if old is not None and old.startswith(HEADER.format(src=src)) and _same_document(old, text):
        return "kept"
    path.write_text(text, encoding="utf-8")
    return "wrote"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--official", type=Path, default=DEFAULT_OFFICIAL)
    ap.add_argument("--prose", type=Path, default=HERE / "prose.yaml")
    args = ap.parse_args()
    table = yaml.safe_load(args.prose.read_text(encoding="utf-8"))
    failed = False
    for name, spec in table.items():
        src = args.official / spec["source"]
        official = yaml.safe_load(src.read_text(encoding="utf-8"))
        try:
            doc = derive(official, spec, name)
        except DeriveError as e:
            print(e, file=sys.stderr)
            failed = True
            continue
        out = SPEC / spec["output"]
        status = dump(doc, out, spec["source"])
        if status == "kept":
            print(f"kept {out} (same document, line wrapping differs from the dumper's)")
        else:
            print(f"{status} {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
