"""Parses PowerShell source with tree-sitter-powershell and prints what the tests check, as JSON.

PowerShell itself is not installable on the test hosts, so its grammar stands in
for it: tests/support/pwsh.rs drives this script from the test venv.

    pwsh_parse.py            one source on stdin  -> one JSON object
    pwsh_parse.py --batch    a JSON array of sources on stdin -> a JSON array
    pwsh_parse.py --serve    per stdin line, a JSON array of sources -> one line, a JSON array
    pwsh_parse.py --tree     one source on stdin  -> the syntax tree, for a human

Each object:

    has_error   any ERROR or MISSING node in the tree
    errors      [{type, row, column, text}] of those nodes
    statements  every assignment and command anywhere in the tree, in source order:
      {kind: "assignment", row, text, depth,
       variable, variable_types, operator, rhs_text, rhs_types, rhs_terms}
      {kind: "command", row, text, depth, name, args: [{type, text}]}

`*_types` lists the node types from that side's top node down through every
node that has exactly one child, so a plain single-quoted string ends in
["string_literal", "verbatim_string_characters"] and `rhs_text` is exactly that
literal. `rhs_terms` reads a right-hand side that is one string, or a
parenthesised `+` chain of strings and `[char]` casts of hexadecimal literals
(how mfaenv writes what is not printable ASCII), as a list of
{kind: "verbatim"|"char"|"other", text}; null for anything else. `depth` counts the script blocks around a statement (0 = top level).
A command inside an assignment (`$x = Get-Foo`) is listed as both.

Note: the grammar (0.26.4) only knows the ASCII `'` as a single quote, whereas
PowerShell also ends single-quoted strings at U+2018..U+201B; tests decode the
literal text themselves with PowerShell's rule.
"""

import json
import sys

import tree_sitter
import tree_sitter_powershell

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def text(src, node):
    return src[node.start_byte : node.end_byte].decode("utf-8")


def chain(node):
    """Types from `node` down through single-child nodes, and the last node."""
    types = [node.type]
    while node.child_count == 1:
        node = node.children[0]
        types.append(node.type)
    return types, node


def term(src, node):
    """One operand of a `+` chain: a verbatim string, a `[char]0x...` cast, or other."""
    _, last = chain(node)
    if last.type == "verbatim_string_characters":
        return {"kind": "verbatim", "text": text(src, last)}
    if last.type == "cast_expression":
        kids = last.children
        if len(kids) == 2 and kids[0].type == "type_literal" and text(src, kids[0]) == "[char]":
            _, operand = chain(kids[1])
            if operand.type == "hexadecimal_integer_literal":
                return {"kind": "char", "text": text(src, operand)}
    return {"kind": "other", "text": text(src, last)}


def additive_terms(src, node):
    """The operands of a left-associative `a + b + c`, in order."""
    if node.type == "additive_expression" and node.child_count == 3:
        if node.children[1].type == "+":
            return additive_terms(src, node.children[0]) + [term(src, node.children[2])]
        return None
    return [term(src, node)]


def rhs_terms(src, rhs):
    _, last = chain(rhs)
    if last.type == "verbatim_string_characters":
        return [{"kind": "verbatim", "text": text(src, last)}]
    if last.type != "parenthesized_expression" or last.child_count != 3:
        return None
    inner = last.children[1]
    # Down to the additive expression: pipeline, pipeline_chain, logical_expression, ...
    while inner.type != "additive_expression" and inner.child_count == 1:
        inner = inner.children[0]
    return additive_terms(src, inner)


def assignment(src, node):
    kids = node.children
    lhs = kids[0]
    op = kids[1] if len(kids) > 1 else None
    rhs = kids[2] if len(kids) > 2 else None
    variable_types, _ = chain(lhs)
    out = {
        "kind": "assignment",
        "variable": text(src, lhs),
        "variable_types": variable_types,
        "operator": text(src, op) if op is not None else "",
        "rhs_text": "",
        "rhs_types": [],
        "rhs_terms": None,
    }
    if rhs is not None:
        out["rhs_types"], _ = chain(rhs)
        out["rhs_text"] = text(src, rhs)
        out["rhs_terms"] = rhs_terms(src, rhs)
    return out


def command(src, node):
    name = node.child_by_field_name("command_name")
    args = []
    for kid in node.children:
        if kid.type == "command_name":
            name = kid
        elif kid.type == "command_elements":
            for element in kid.children:
                if element.type != "command_argument_sep":
                    args.append({"type": element.type, "text": text(src, element)})
    return {"kind": "command", "name": text(src, name) if name else "", "args": args}


def analyse(source):
    src = source.encode("utf-8")
    tree = PARSER.parse(src)
    errors, statements = [], []
    # Iterative pre-order walk (source order); each entry carries its script-block depth.
    stack = [(tree.root_node, 0)]
    while stack:
        node, depth = stack.pop()
        if node.is_error or node.is_missing:
            errors.append(
                {
                    "type": ("MISSING " + node.type) if node.is_missing else "ERROR",
                    "row": node.start_point[0],
                    "column": node.start_point[1],
                    "text": text(src, node),
                }
            )
        found = None
        if node.type == "assignment_expression":
            found = assignment(src, node)
        elif node.type == "command":
            found = command(src, node)
        if found is not None:
            found.update(row=node.start_point[0], text=text(src, node), depth=depth)
            statements.append(found)
        inner = depth + (node.type == "script_block")
        stack.extend((kid, inner) for kid in reversed(node.children))
    return {
        "has_error": bool(errors) or tree.root_node.has_error,
        "errors": errors,
        "statements": statements,
    }


def print_tree(source):
    src = source.encode("utf-8")
    stack = [(PARSER.parse(src).root_node, 0)]
    while stack:
        node, depth = stack.pop()
        flag = " ERROR" if node.is_error else " MISSING" if node.is_missing else ""
        print("  " * depth + node.type + flag + "  " + repr(text(src, node))[:100])
        stack.extend((kid, depth + 1) for kid in reversed(node.children))


def main():
    if "--serve" in sys.argv[1:]:
        for line in sys.stdin.buffer:
            json.dump([analyse(source) for source in json.loads(line)], sys.stdout)
            sys.stdout.write("\n")
            sys.stdout.flush()
        return
    data = sys.stdin.buffer.read()
    if "--batch" in sys.argv[1:]:
        result = [analyse(source) for source in json.loads(data)]
    elif "--tree" in sys.argv[1:]:
        return print_tree(data.decode("utf-8"))
    else:
        result = analyse(data.decode("utf-8"))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
