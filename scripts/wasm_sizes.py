#!/usr/bin/env python3
"""Where a wasm module's bytes go, by crate: the code section's function bodies grouped by the
crate their (mangled) names start with, plus the data section and the rest. No dependencies.

    python3 scripts/wasm_sizes.py FILE.wasm [--top N]

Read it on rustc's own output (`$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/worker.wasm`),
which still has its name section; trunk's wasm-opt then shrinks every crate's code and drops
the names. Generic code is attributed to the crate that defines the function, not the one
that instantiated it (a burn kernel monomorphised for cubecl counts as burn's).
"""
import sys
from collections import defaultdict


def leb(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def sections(data):
    if data[:4] != b"\0asm":
        raise SystemExit("not a wasm module")
    pos = 8
    while pos < len(data):
        kind = data[pos]
        size, start = leb(data, pos + 1)
        yield kind, data[start:start + size]
        pos = start + size


def imported_functions(body):
    count, pos = leb(body, 0)
    functions = 0
    for _ in range(count):
        for _ in range(2):  # module and field names
            n, pos = leb(body, pos)
            pos += n
        kind = body[pos]
        pos += 1
        if kind == 0:  # function: type index
            _, pos = leb(body, pos)
            functions += 1
        elif kind == 1:  # table: reftype, limits
            pos += 1
            flags, pos = leb(body, pos)
            _, pos = leb(body, pos)
            if flags & 1:
                _, pos = leb(body, pos)
        elif kind == 2:  # memory: limits
            flags, pos = leb(body, pos)
            _, pos = leb(body, pos)
            if flags & 1:
                _, pos = leb(body, pos)
        elif kind == 3:  # global: valtype, mutability
            pos += 2
        else:
            raise SystemExit(f"unknown import kind {kind}")
    return functions


def function_names(body):
    names = {}
    pos = 0
    name_len, pos = leb(body, pos)
    pos += name_len  # the custom section's own name, "name"
    while pos < len(body):
        sub = body[pos]
        size, pos = leb(body, pos + 1)
        end = pos + size
        if sub == 1:
            count, p = leb(body, pos)
            for _ in range(count):
                index, p = leb(body, p)
                n, p = leb(body, p)
                names[index] = body[p:p + n].decode("utf-8", "replace")
                p += n
        pos = end
    return names


SECTIONS = {1: "type section", 3: "function section", 4: "table section", 5: "memory section",
            6: "global section", 7: "export section", 8: "start section", 9: "element section",
            12: "data count section"}


def crate_of(name):
    """The first path segment of a Rust symbol (legacy `_ZN…E` or v0 `_R…` mangling), or the
    name itself for anything else (wasm-bindgen's shims, C code)."""
    if name.startswith("_ZN"):
        pos = 3
        digits = ""
        while pos < len(name) and name[pos].isdigit():
            digits += name[pos]
            pos += 1
        if not digits:
            return name
        ident = name[pos:pos + int(digits)]
        if ident.startswith("_$LT$"):
            inner = ident[5:]
            for sep in ("..", "$u20$", "$GT$", "$C$"):
                inner = inner.split(sep)[0]
            # `<T as Trait>::f`: a blanket impl, defined where the trait is.
            return inner if len(inner) > 1 else "(blanket impls of generic T)"
        return ident
    if name.startswith("_R"):
        # v0: _R + NvNt…C<len><crate>… — the crate is the first `C` identifier.
        pos = name.find("C")
        while pos != -1:
            p = pos + 1
            if p < len(name) and name[p] == "s":  # disambiguator
                p = name.find("_", p) + 1
            digits = ""
            while p < len(name) and name[p].isdigit():
                digits += name[p]
                p += 1
            if digits:
                return name[p:p + int(digits)]
            pos = name.find("C", pos + 1)
        return name
    return "(other: " + name.split("::")[0][:40] + ")" if "::" in name else "(unnamed or C)"


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    top = 25
    if "--top" in args:
        top = int(args[args.index("--top") + 1])
    data = open(args[0], "rb").read()
    imports = 0
    code = None
    names = {}
    other = defaultdict(int)
    for kind, body in sections(data):
        if kind == 2:
            imports = imported_functions(body)
        elif kind == 10:
            code = body
        elif kind == 0:
            n, p = leb(body, 0)
            section_name = body[p:p + n].decode("utf-8", "replace")
            if section_name == "name":
                names = function_names(body)
            other[f"custom section `{section_name}`"] += len(body)
        elif kind == 11:
            other["data section (static data)"] += len(body)
        else:
            other[SECTIONS.get(kind, f"section {kind}")] += len(body)
    if code is None:
        raise SystemExit("no code section")
    by_crate = defaultdict(int)
    count, pos = leb(code, 0)
    for i in range(count):
        size, start = leb(code, pos)
        name = names.get(imports + i, "")
        by_crate[crate_of(name) if name else "(unnamed or C)"] += size
        pos = start + size
    total = len(data)
    code_total = sum(by_crate.values())
    print(f"{args[0]}: {total:,} bytes; code {code_total:,} bytes in {count:,} functions")
    print("| crate | code bytes | share of the file |")
    print("| --- | ---: | ---: |")
    ranked = sorted(by_crate.items(), key=lambda kv: -kv[1])
    for crate, size in ranked[:top]:
        print(f"| {crate} | {size:,} | {100 * size / total:.1f}% |")
    rest = sum(size for _, size in ranked[top:])
    if rest:
        print(f"| {len(ranked) - top} more crates | {rest:,} | {100 * rest / total:.1f}% |")
    for what, size in sorted(other.items(), key=lambda kv: -kv[1]):
        print(f"| {what} | {size:,} | {100 * size / total:.1f}% |")


if __name__ == "__main__":
    main()
