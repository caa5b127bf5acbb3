#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check that hadp.ko's uapi and netlink policies say what kmod/hadp.yaml says.

    tests/kmod/nlspec.py [--spec YAML] [--uapi HEADER] [--include DIR] [KMOD_C...]

kmod/hadp.yaml is the family's spec in the kernel's YAML netlink format;
include/uapi/linux/hadp.h and the module's nla_policy arrays are written by
hand beside it (the module's policies reject reply-only attributes with a
message, which ynl-gen does not render). This check reads all three and
prints one line per difference, naming the file and what differs; exit 1 if
any. It checks, with the names ynl-gen would give:
  - every const, enum and flags definition against the header's values;
  - every attribute set and the command list against the header's enums:
    the same names, in the same order, with the same values, and the max;
  - every command with a request: its genl_ops entry (policy, maxattr,
    doit/dumpit, admin flags) and each policy entry: an attribute the
    request lists is validated with the spec's type and limits (min, max,
    min-len, max-len, exact-len, the nested set), any other is refused;
    a nested set's policy validates every attribute of the set;
  - each nla_put_* of a named attribute in the module puts the spec's type;
  - commands without do or dump (notifications) have no genl_ops entry.
It parses only the C forms the module uses; an entry it cannot read is a
difference too, so a new form fails loudly instead of being skipped.
"""

import argparse
import glob
import os
import re
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..'))
errors = []


def err(where, what):
    errors.append(f'{rel(where)}: {what}')


def rel(path):
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def c_name(*parts):
    return '_'.join(p.strip('-') for p in parts if p).upper().replace('-', '_')


# ynl-gen's names: HADP_A_<SET>_<ATTR>, HADP_CMD_<OP> unless the spec says
def attr_prefix(spec, s):
    return s.get('name-prefix', f'{spec["name"]}-a-{s["name"]}-')


def attr_set(spec, name):
    return next(s for s in spec['attribute-sets'] if s['name'] == name)


def cmd_name(spec, op):
    return c_name(spec['operations'].get('name-prefix', f'{spec["name"]}-cmd-'), op['name'])


# ---- C text ---------------------------------------------------------------

def strip_c(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    return text.replace('\\\n', ' ')


def defines(text):
    """Object-like macros: name -> body."""
    return {m[1]: m[2].strip() for m in
            re.finditer(r'^[ \t]*#define[ \t]+(\w+)(?![\w(])[ \t]*(.*)$', text, re.M)}


def braced(text, start):
    """The text between the brace at start and its match."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == '{':
            depth += 1
        elif text[i] == '}':
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    raise ValueError('unbalanced braces')


def split_top(text, sep=','):
    """Split at separators outside (), [] and {}."""
    out, depth, cur = [], 0, ''
    for ch in text:
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur.strip())
            cur = ''
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def expand(text, macros):
    for _ in range(10):
        new = re.sub(r'\b(\w+)\b', lambda m: macros.get(m[1], m[1]), text)
        if new == text:
            return text
        text = new
    raise ValueError('macro expansion does not end')


def fields(init):
    """{ .a = x, .b = y } -> {'a': 'x', 'b': 'y'}"""
    out = {}
    for part in split_top(init.strip()[1:-1] if init.strip().startswith('{') else init):
        m = re.fullmatch(r'\.(\w+)\s*=\s*(.+)', part, re.S)
        if m:
            out[m[1]] = m[2].strip()
    return out


class Consts:
    """Integer values of the headers' #defines and enum entries."""

    def __init__(self):
        self.val = {}

    def eval(self, expr):
        e = re.sub(r'\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b', lambda m: str(int(m[1], 0)),
                   expr.strip())
        e = re.sub(r'\b([A-Za-z_]\w*)\b',
                   lambda m: str(self.val[m[1]]) if m[1] in self.val else m[1], e)
        if not e or not re.fullmatch(r'[\s\d()+\-*/<>|&~]*', e):
            raise ValueError(f'cannot evaluate "{expr.strip()}"')
        return int(eval(e.replace('/', '//')))  # digits and operators only

    def add_defines(self, text):
        for name, body in defines(text).items():
            try:
                self.val[name] = self.eval(body)
            except (ValueError, SyntaxError):
                pass


def c_enums(text, consts):
    """Every enum of a header: list of [(name, value)], values evaluated."""
    out = []
    for m in re.finditer(r'\benum\s*(\w*)\s*\{', text):
        entries, nxt = [], 0
        for part in split_top(braced(text, m.end() - 1)):
            name, _, expr = part.partition('=')
            name = name.strip()
            nxt = consts.eval(expr) if expr.strip() else nxt
            consts.val[name] = nxt
            entries.append((name, nxt))
            nxt += 1
        out.append(entries)
    return out


# ---- the spec against the header ---------------------------------------------

def check_enum(hdr, enums, what, names, start):
    """names must be an enum of the header, in order from start, and its
    sentinels (__X_MAX, X_MAX) when it has them right."""
    want = [(n, start + i) for i, n in enumerate(names)]
    found = [e for e in enums if e and e[0][0] == want[0][0]]
    if not found:
        err(hdr, f'{what}: no enum starting with {want[0][0]}')
        return
    have = found[0]
    body = [e for e in have if not e[0].endswith('_MAX') or e in want]
    if body != want:
        for i in range(max(len(body), len(want))):
            a = body[i] if i < len(body) else None
            b = want[i] if i < len(want) else None
            if a != b:
                err(hdr, f'{what}: entry {i} is {a[0] + " = " + str(a[1]) if a else "missing"}, '
                         f'the spec says {b[0] + " = " + str(b[1]) if b else "none"}')
                break
    rest = dict(e for e in have if e not in body)
    last = want[-1][1]
    for name, v in rest.items():
        if v != (last + 1 if name.startswith('__') else last):
            err(hdr, f'{what}: {name} is {v}, the last entry is {last}')


def check_header(spec, hdr):
    text = strip_c(open(hdr).read())
    consts = Consts()
    consts.add_defines(text)
    enums = c_enums(text, consts)
    fam = spec['name']
    fam_name = re.search(r'#define\s+' + c_name(fam, 'family-name') + r'\s+"([^"]*)"', text)
    if not fam_name or fam_name[1] != fam:
        err(hdr, f'{c_name(fam, "family-name")} is not "{fam}"')
    for g in spec.get('mcast-groups', {}).get('list', []):
        if not re.search(r'#define\s+' + c_name(fam, 'mcgrp', g['name']) + rf'\s+"{g["name"]}"', text):
            err(hdr, f'no {c_name(fam, "mcgrp", g["name"])} "{g["name"]}"')
    for d in spec.get('definitions', []):
        prefix = d.get('name-prefix', f'{fam}-{d["name"]}-' if d['type'] != 'const' else f'{fam}-')
        if d['type'] == 'const':
            n = c_name(prefix, d['name'])
            if consts.val.get(n) != d['value']:
                err(hdr, f'{n} is {consts.val.get(n, "missing")}, the spec says {d["value"]}')
            continue
        names = [c_name(prefix, e if isinstance(e, str) else e['name']) for e in d['entries']]
        if d['type'] == 'flags':
            for i, n in enumerate(names):
                if consts.val.get(n) != 1 << i:
                    err(hdr, f'flags {d["name"]}: {n} is {consts.val.get(n, "missing")}, '
                             f'the spec says {1 << i}')
        else:
            check_enum(hdr, enums, f'enum {d["name"]}', names, d.get('value-start', 0))
    for s in spec['attribute-sets']:
        check_enum(hdr, enums, f'attribute set {s["name"]}',
                   [c_name(attr_prefix(spec, s), a['name']) for a in s['attributes']],
                   s['attributes'][0].get('value', 1))
    ops = spec['operations']['list']
    check_enum(hdr, enums, 'commands', [cmd_name(spec, o) for o in ops],
               ops[0].get('value', 1))
    return consts


# ---- the spec against the module's policies -----------------------------------

INT = {'NLA_U8': 'u8', 'NLA_U16': 'u16', 'NLA_U32': 'u32', 'NLA_U64': 'u64',
       'NLA_S8': 's8', 'NLA_S16': 's16', 'NLA_S32': 's32', 'NLA_S64': 's64'}
TYPES = dict(INT, NLA_STRING='string', NLA_NUL_STRING='string', NLA_BINARY='binary',
             NLA_NESTED='nest', NLA_FLAG='flag')
PUTS = {'put_u8': 'u8', 'put_u16': 'u16', 'put_u32': 'u32', 'put_u64_64bit': 'u64',
        'put_string': 'string', 'put_in_addr': 'binary', 'put_in6_addr': 'binary',
        'put_flag': 'flag', 'put_be16': 'u16', 'put_be32': 'u32', 'put': 'binary',
        'nest_start': 'nest', 'nest_start_noflag': 'nest'}


def policy_entry(value, consts, ranges):
    """A policy initializer as the limits it enforces, or None when it
    refuses the attribute."""
    m = re.fullmatch(r'(NLA_POLICY_\w+)\s*\((.*)\)', value, re.S)
    if m:
        form, args = m[1], split_top(m[2])
        if form == 'NLA_POLICY_NESTED':
            return {'type': 'nest', 'nested': args[0]}
        if form == 'NLA_POLICY_EXACT_LEN':
            return {'type': 'binary', 'exact-len': consts.eval(args[0])}
        if form in ('NLA_POLICY_MIN_LEN', 'NLA_POLICY_MAX_LEN'):
            key = 'min-len' if form.endswith('MIN_LEN') else 'max-len'
            return {'type': 'binary', key: consts.eval(args[0])}
        out = {'type': TYPES[args[0]]}
        if form == 'NLA_POLICY_MIN':
            out['min'] = consts.eval(args[1])
        elif form == 'NLA_POLICY_MAX':
            out['max'] = consts.eval(args[1])
        elif form == 'NLA_POLICY_RANGE':
            out['min'], out['max'] = consts.eval(args[1]), consts.eval(args[2])
        elif form == 'NLA_POLICY_FULL_RANGE':
            r = ranges[args[1].lstrip('&').strip()]
            out['min'], out['max'] = consts.eval(r['min']), consts.eval(r['max'])
        elif form == 'NLA_POLICY_MASK':
            out['mask'] = consts.eval(args[1])
        else:
            raise ValueError(f'unknown policy form {form}')
        if out['type'] == 'binary':  # a range of a binary is of its length
            out = {'type': 'binary', **{k + '-len': v for k, v in out.items() if k in ('min', 'max')}}
        return out
    f = fields(value)
    if f.get('type') == 'NLA_REJECT':
        return None
    if f.get('type') not in TYPES:
        raise ValueError(f'cannot read policy "{value}"')
    out = {'type': TYPES[f['type']]}
    if 'len' in f:
        out['max-len'] = consts.eval(f['len'])
    return out


def limits(attr):
    """What the spec says a request attribute is validated as."""
    out = {'type': attr['type']}
    out.update({k: v for k, v in attr.get('checks', {}).items()
                if k in ('min', 'max', 'min-len', 'max-len', 'exact-len')})
    return out


def check_policy(spec, where, pname, policies, set_name, request, consts, ranges, done):
    aset = attr_set(spec, set_name)
    attrs = {a['name']: a for a in aset['attributes']}
    size, body = policies[pname]
    prefix = c_name(attr_prefix(spec, aset)) + '_'
    if size.replace(' ', '') != prefix + 'MAX+1':
        err(where, f'{pname} has {size} entries, the set {set_name} needs {prefix}MAX + 1')
    entries = {}
    for part in body:
        m = re.fullmatch(r'\[\s*(\w+)\s*\]\s*=\s*(.+)', part, re.S)
        if not m or not m[1].startswith(prefix):
            err(where, f'{pname}: entry "{part[:60]}" is not of the set {set_name}')
            continue
        try:
            entries[m[1]] = policy_entry(m[2].strip(), consts, ranges)
        except (ValueError, KeyError) as e:
            err(where, f'{pname}[{m[1]}]: {e}')
            entries[m[1]] = 'unreadable'
    for name, attr in attrs.items():
        cn = prefix + c_name(name)
        have = entries.pop(cn, None)
        if have == 'unreadable':
            continue
        if name not in request:
            if have is not None:
                err(where, f'{pname}: {set_name} attribute {name} is accepted, '
                           f'the spec\'s request does not list it')
            continue
        if have is None:
            err(where, f'{pname}: {set_name} attribute {name} is in the spec\'s request, '
                       f'the policy refuses it')
            continue
        want = limits(attr)
        mask = have.pop('mask', None)
        nested = have.pop('nested', None)
        if have != want:
            err(where, f'{pname}[{cn}]: policy {have}, the spec says {want}')
        if mask is not None:
            enum = next((d for d in spec['definitions'] if d['name'] == attr.get('enum')), None)
            if not attr.get('enum-as-flags') or not enum:
                err(where, f'{pname}[{cn}]: a mask policy on an attribute that is not flags')
            elif mask & ~((1 << len(enum['entries'])) - 1):
                err(where, f'{pname}[{cn}]: mask {mask:#x} has bits {enum["name"]} has not')
        if attr['type'] == 'nest' and nested not in policies:
            err(where, f'{pname}[{cn}]: nested policy {nested} not found')
        elif nested and nested not in done:
            done.add(nested)
            inner = attr_set(spec, attr['nested-attributes'])
            check_policy(spec, where, nested, policies, inner['name'],
                         [a['name'] for a in inner['attributes'] if a['type'] != 'pad'],
                         consts, ranges, done)
    for cn in entries:
        err(where, f'{pname}: {cn} is not an attribute of the set {set_name} in the spec')


def check_module(spec, files, consts):
    texts = {f: strip_c(open(f).read()) for f in files}
    policies, ranges, ops, macros, puts = {}, {}, {}, {}, []
    for f, t in texts.items():
        macros.update(defines(t))
        consts.add_defines(t)
    for f, t in texts.items():
        for m in re.finditer(r'struct\s+nla_policy\s+(\w+)\s*\[([^\]]*)\]\s*(?:\w+\s*)*=\s*\{', t):
            policies[m[1]] = (m[2].strip(), split_top(expand(braced(t, m.end() - 1), macros)))
        for m in re.finditer(r'struct\s+netlink_range_validation\s+(\w+)[^=]*=\s*\{', t):
            ranges[m[1]] = fields('{' + braced(t, m.end() - 1) + '}')
        for m in re.finditer(r'struct\s+genl_ops\s+\w+\s*\[\s*\]\s*=\s*\{', t):
            for op in split_top(braced(t, m.end() - 1)):
                o = fields(op)
                ops[o.get('cmd')] = (f, o)
        puts += [(f, m[1], m[2]) for m in
                 re.finditer(r'\bnla_(put\w*|nest_start\w*)\s*\(\s*\w+\s*,\s*(\w+)', t)]
    if not ops:
        err(files[0], 'no genl_ops array found')
    types = {c_name(attr_prefix(spec, s), a['name']): a['type']
             for s in spec['attribute-sets'] for a in s['attributes']}
    for f, call, attr in puts:
        if attr in types and call in PUTS and PUTS[call] != types[attr]:
            err(f, f'nla_{call} of {attr}: puts {PUTS[call]}, the spec says {types[attr]}')
    perms = {'admin-perm': 'GENL_ADMIN_PERM', 'uns-admin-perm': 'GENL_UNS_ADMIN_PERM'}
    done = set()
    for o in spec['operations']['list']:
        cmd = cmd_name(spec, o)
        if 'do' not in o and 'dump' not in o:
            if cmd in ops:
                err(ops[cmd][0], f'{cmd} has a genl_ops entry, the spec has it as a notification')
            continue
        if cmd not in ops:
            err(files[0], f'{cmd}: no genl_ops entry')
            continue
        f, g = ops.pop(cmd)
        for key, handler in (('do', 'doit'), ('dump', 'dumpit')):
            if (key in o) != (handler in g):
                err(f, f'{cmd}: .{handler} {"set" if handler in g else "missing"}, '
                       f'the spec has {"a" if key in o else "no"} {key}')
        flags = {perms[p] for p in o.get('flags', []) if p in perms}
        have = set(re.findall(r'GENL_\w+_PERM', g.get('flags', '')))
        if flags != have:
            err(f, f'{cmd}: flags {sorted(have)}, the spec says {sorted(flags)}')
        set_name = o['attribute-set']
        maxattr = c_name(attr_prefix(spec, attr_set(spec, set_name)), 'max')
        if g.get('maxattr') != maxattr:
            err(f, f'{cmd}: .maxattr is {g.get("maxattr")}, the spec\'s set needs {maxattr}')
        pname = g.get('policy')
        if pname not in policies:
            err(f, f'{cmd}: policy {pname} not found')
            continue
        request = o.get('do', {}).get('request', {}).get('attributes', [])
        check_policy(spec, f, pname, policies, set_name, request, consts, ranges, done)
    for cmd, (f, _) in ops.items():
        err(f, f'{cmd} has a genl_ops entry, the spec has no such command')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    ap.add_argument('--spec', default=os.path.join(ROOT, 'kmod/hadp.yaml'))
    ap.add_argument('--uapi', default=os.path.join(ROOT, 'include/uapi/linux/hadp.h'))
    ap.add_argument('--include', default=os.path.join(ROOT, 'include/hadp'),
                    help='headers whose constants the policies use')
    ap.add_argument('kmod', nargs='*')
    a = ap.parse_args()
    files = a.kmod or sorted(f for f in glob.glob(os.path.join(ROOT, 'kmod/*.c'))
                             if not f.endswith('.mod.c'))
    spec = yaml.safe_load(open(a.spec))
    consts = check_header(spec, a.uapi)
    for h in sorted(glob.glob(os.path.join(a.include, '*.h'))):
        consts.add_defines(strip_c(open(h).read()))
    check_module(spec, files, consts)
    for e in errors:
        print(f'nlspec: {e}')
    if errors:
        return 1
    print(f'nlspec: {rel(a.uapi)} and the policies of {len(files)} files match {rel(a.spec)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
