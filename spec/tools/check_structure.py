#!/usr/bin/env python3
"""Self-check for spec/epayment.yaml, spec/access-token.yaml and spec/webhooks.yaml.

1. Structure: after removing prose and examples (description, summary,
   example, examples, x-examples, info except version/title), our documents
   must equal the official ones (access token: restricted to /accesstoken/get
   and the components/tags it reaches), including key order.
2. Originality: no stripped line of 50+ characters from the official files
   appears in our files (structural $ref lines are listed but allowed), no
   description/summary shares an 8-word phrase with the official text, no
   example equals the official one at the same place.
3. Examples: every example validates against the schema it sits on
   (OpenAPI 3.0 `nullable` converted to JSON Schema by hand).  oneOf is
   checked strictly and, separately, as anyOf, because the official
   `Customer` union is ambiguous (every object matches all three branches).

Usage: python3 spec/tools/check_structure.py [--official DIR]
"""
import argparse
import copy
import re
import sys
from pathlib import Path

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent
DEFAULT_OFFICIAL = SPEC.parent.parent / "shared" / "vipps"
PAIRS = [("epayment-1.8.1.yaml", "epayment.yaml", None),
         ("access-token-2.0.0.yaml", "access-token.yaml", ["/accesstoken/get"]),
         ("webhooks-v1.yaml", "webhooks.yaml", None)]
STRIP = {"description", "summary", "example", "examples", "x-examples"}
# components/examples entries are not attached to a schema; map them by hand
# lines that must stay verbatim because they carry structure, not prose
STRUCTURAL_LINE = re.compile(r"^(- )?(\$ref|operationId|format|pattern|url|title|name): ")
COMPONENT_EXAMPLE_SCHEMA = {"SocksOrderLine": "OrderLine", "BottomLine": "BottomLine"}


def esc(k):
    return str(k).replace("~", "~0").replace("/", "~1")


def get(doc, ptr):
    node = doc
    for tok in [t for t in ptr.split("/") if t != ""]:
        tok = tok.replace("~1", "/").replace("~0", "~")
        node = node[int(tok)] if isinstance(node, list) else node[tok]
    return node


# ------------------------------------------------------------------ structure
def strip(node, in_props=False):
    if isinstance(node, dict):
        return {k: strip(v, k == "properties" and not in_props)
                for k, v in node.items() if in_props or k not in STRIP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def normalise(doc):
    doc = copy.deepcopy(doc)
    doc["info"] = {k: v for k, v in doc["info"].items() if k in ("version", "title")}
    for t in doc.get("tags", []):
        t.pop("description", None)
    for s in doc.get("servers", []):
        s.pop("description", None)
    return strip(doc)


def refs(node, acc):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                acc.add(v)
            else:
                refs(v, acc)
    elif isinstance(node, list):
        for v in node:
            refs(v, acc)
    return acc


def restrict(doc, keep):
    doc = copy.deepcopy(doc)
    doc["paths"] = {p: v for p, v in doc["paths"].items() if p in keep}
    seen, todo = set(), refs({k: v for k, v in doc.items() if k != "components"}, set())
    for item in doc["paths"].values():
        for op in item.values():
            for req in (op.get("security", []) if isinstance(op, dict) else []):
                todo |= {f"#/components/securitySchemes/{n}" for n in req}
    for req in doc.get("security", []):
        todo |= {f"#/components/securitySchemes/{n}" for n in req}
    while todo:
        r = todo.pop()
        if r not in seen:
            seen.add(r)
            refs(get(doc, r[1:]), todo)
    comps = {}
    for sec, entries in doc.get("components", {}).items():
        kept = {n: v for n, v in entries.items() if f"#/components/{sec}/{esc(n)}" in seen}
        if kept:
            comps[sec] = kept
    doc["components"] = comps
    tags = {t for item in doc["paths"].values() for op in item.values()
            if isinstance(op, dict) for t in op.get("tags", [])}
    doc["tags"] = [t for t in doc.get("tags", []) if t["name"] in tags]
    return doc


def diff(a, b, ptr="", out=None):
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            if set(a) != set(b):
                out.append(f"{ptr}: keys differ: official-only {sorted(set(a) - set(b))}, "
                           f"ours-only {sorted(set(b) - set(a))}")
            else:
                out.append(f"{ptr}: key order differs")
        for k in a:
            if k in b:
                diff(a[k], b[k], f"{ptr}/{esc(k)}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{ptr}: list length {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{ptr}/{i}", out)
    elif a != b or type(a) is not type(b):
        out.append(f"{ptr}: {a!r} != {b!r}")
    return out


# ---------------------------------------------------------------- originality
WORD = re.compile(r"[a-z0-9]+")


def shingles(text, n=8):
    w = WORD.findall(text.lower())
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def strings(node, acc):
    if isinstance(node, dict):
        for v in node.values():
            strings(v, acc)
    elif isinstance(node, list):
        for v in node:
            strings(v, acc)
    elif isinstance(node, str):
        acc.append(node)
    return acc


def sites(node, ptr="", in_props=False, out=None):
    out = [] if out is None else out
    if isinstance(node, dict):
        for k, v in node.items():
            if not in_props and k in STRIP:
                out.append((ptr, k))
            else:
                sites(v, f"{ptr}/{esc(k)}", k == "properties" and not in_props, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            sites(v, f"{ptr}/{i}", False, out)
    return out


# ------------------------------------------------------------------- examples
def to_jsonschema(s, relax_oneof):
    if isinstance(s, list):
        return [to_jsonschema(x, relax_oneof) for x in s]
    if not isinstance(s, dict):
        return s
    if "$ref" in s:
        return {"$ref": s["$ref"]}
    out = {}
    for k, v in s.items():
        if k in STRIP or k.startswith("x-") or k in ("nullable", "discriminator", "deprecated",
                                                     "xml", "externalDocs"):
            continue
        if k == "properties":
            out[k] = {n: to_jsonschema(p, relax_oneof) for n, p in v.items()}
        elif k in ("items", "not", "additionalProperties") and isinstance(v, dict):
            out[k] = to_jsonschema(v, relax_oneof)
        elif k in ("oneOf", "anyOf", "allOf"):
            out["anyOf" if (k == "oneOf" and relax_oneof) else k] = to_jsonschema(v, relax_oneof)
        elif k in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(v, bool):
            bound = "minimum" if k == "exclusiveMinimum" else "maximum"
            if v:
                out[k] = s[bound]
        else:
            out[k] = v
    if "exclusiveMinimum" in out and "minimum" in out and s.get("exclusiveMinimum") is True:
        del out["minimum"]
    if "exclusiveMaximum" in out and "maximum" in out and s.get("exclusiveMaximum") is True:
        del out["maximum"]
    if s.get("nullable") is True:
        if "enum" in out and None not in out["enum"]:
            out["enum"] = list(out["enum"]) + [None]
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif any(c in out for c in ("oneOf", "anyOf", "allOf")):
            out = {"anyOf": [{"type": "null"}, out]}
    return out


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri", raises=ValueError)
def _uri(value):
    if not isinstance(value, str):
        return True
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$", value):
        raise ValueError("not an absolute URI")
    return True


def example_sites(doc):
    """Yield (pointer, instance, schema) for every example in an OpenAPI doc."""
    out = []

    def visit(node, ptr, kind, in_props=False):
        # kind: 'schema', 'parameter', 'media', or None (unknown / plain container)
        if isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, f"{ptr}/{i}", None)
            return
        if not isinstance(node, dict):
            return
        if not in_props:
            schema = node if kind == "schema" else node.get("schema") if kind in ("parameter", "media") else None
            if schema is not None:
                if "example" in node:
                    out.append((f"{ptr}/example", node["example"], schema))
                for name, val in (node.get("x-examples") or {}).items() if kind == "schema" else []:
                    out.append((f"{ptr}/x-examples/{esc(name)}", val, schema))
                if kind == "media":
                    for name, ex in (node.get("examples") or {}).items():
                        out.append((f"{ptr}/examples/{esc(name)}/value", ex.get("value"), schema))
        for k, v in node.items():
            p = f"{ptr}/{esc(k)}"
            if in_props:
                visit(v, p, "schema")
            elif k in STRIP:
                continue
            elif k == "properties" and kind == "schema":
                visit(v, p, None, in_props=True)
            elif k in ("items", "additionalProperties", "not") and kind == "schema":
                visit(v, p, "schema")
            elif k in ("oneOf", "anyOf", "allOf") and kind == "schema":
                for i, sub in enumerate(v):
                    visit(sub, f"{p}/{i}", "schema")
            elif k == "schema":
                visit(v, p, "schema")
            elif k == "schemas" and ptr == "/components":
                for n, sub in v.items():
                    visit(sub, f"{p}/{esc(n)}", "schema")
            elif k == "parameters" and isinstance(v, (list, dict)):
                items = enumerate(v) if isinstance(v, list) else v.items()
                for n, sub in items:
                    visit(sub, f"{p}/{esc(n)}", "parameter")
            elif k == "content":
                for n, sub in v.items():
                    visit(sub, f"{p}/{esc(n)}", "media")
            else:
                visit(v, p, None)

    visit(doc, "", None)
    for name, ex in (doc.get("components", {}).get("examples") or {}).items():
        target = COMPONENT_EXAMPLE_SCHEMA.get(name, name)
        out.append((f"/components/examples/{esc(name)}/value", ex.get("value"),
                    {"$ref": f"#/components/schemas/{target}"}))
    return out


def validate_examples(doc, relax_oneof):
    comps = {n: to_jsonschema(s, relax_oneof)
             for n, s in doc.get("components", {}).get("schemas", {}).items()}
    failures = []
    found = example_sites(doc)
    for ptr, inst, schema in found:
        js = to_jsonschema(schema, relax_oneof)
        if "$ref" in js:
            js = {"allOf": [js]}
        js["components"] = {"schemas": comps}
        v = jsonschema.Draft7Validator(js, format_checker=FORMATS)
        errs = sorted(v.iter_errors(inst), key=lambda e: list(e.absolute_path))
        for e in errs:
            where = "/".join(str(x) for x in e.absolute_path)
            failures.append(f"{ptr} [{where}] {e.validator}: {e.message[:110]}")
    return len(found), failures


# ----------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", type=Path, default=DEFAULT_OFFICIAL)
    args = ap.parse_args()
    ok = True

    official_lines = set()
    for off_name, _, _ in PAIRS:
        for line in (args.official / off_name).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= 50:
                official_lines.add(line)

    for off_name, our_name, keep in PAIRS:
        official = yaml.safe_load((args.official / off_name).read_text(encoding="utf-8"))
        ours = yaml.safe_load((SPEC / our_name).read_text(encoding="utf-8"))
        view = restrict(official, keep) if keep else official
        d = diff(normalise(view), normalise(ours))
        print(f"[structure] {our_name}: {'EQUAL' if not d else f'{len(d)} difference(s)'}")
        for line in d[:40]:
            print("   ", line)
        ok &= not d

        # originality of prose/examples
        off_sh = set()
        for s in strings(official, []):
            off_sh |= shingles(s)
        same, phr = [], []
        for owner, key in sites(ours):
            val = get(ours, owner)[key]
            try:
                theirs = get(view, owner).get(key)
            except (KeyError, IndexError, ValueError, TypeError, AttributeError):
                theirs = None
            if theirs is not None and theirs == val:
                same.append(f"{owner}/{key}")
            if key in ("description", "summary") and shingles(val) & off_sh:
                phr.append(f"{owner}/{key}")
        print(f"[originality] {our_name}: {len(sites(ours))} prose/example sites, "
              f"{len(same)} equal to official, {len(phr)} sharing an 8-word phrase")
        for x in same + phr:
            print("   ", x)
        ok &= not same and not phr

        # examples
        for relax in (False, True):
            n, fails = validate_examples(ours, relax)
            label = "oneOf as anyOf" if relax else "strict oneOf"
            print(f"[examples] {our_name} ({label}): {n} examples, {len(fails)} failure(s)")
            for f in fails:
                print("   ", f)
            if relax:
                ok &= not fails
        n, fails = validate_examples(view, True)
        print(f"[info] official {off_name} (oneOf as anyOf): {n} examples, {len(fails)} invalid")
        for f in fails:
            print("   ", f)

    # verbatim official lines of 50+ characters in any of our files
    hits, structural = [], []
    for f in sorted(p for p in SPEC.rglob("*") if p.is_file() and p.suffix in (".yaml", ".py", ".md")):
        for no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            s = line.strip()
            if len(s) >= 50 and s in official_lines:
                rec = f"{f.relative_to(SPEC)}:{no}: {s}"
                (structural if STRUCTURAL_LINE.match(s) else hits).append(rec)
    print(f"[verbatim] official lines of 50+ chars found in spec/: {len(hits)} prose, "
          f"{len(structural)} structural lines (allowed)")
    for h in structural:
        if not h.split(": ", 1)[1].lstrip("- ").startswith("$ref"):
            print("    (structural)", h)
    for h in hits:
        print("   ", h)
    ok &= not hits
    print("RESULT:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
