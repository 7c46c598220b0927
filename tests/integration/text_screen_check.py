#!/usr/bin/env python3
"""Reads text off a PNG of an 80x25 text-mode screen (720x400: 9x16 cells,
as the VGA BIOS sets it; 640x400: 8x16, as Linux's vgacon leaves it)
without knowing the font: each expected character must look the same
wherever it appears, different characters must look different, spaces and
every cell outside the expected lines must be blank (the cell at CURSOR is
skipped: the cursor blinks).
Usage: text_screen_check.py PNG CURSOR_ROW,CURSOR_COL LINE...  -- exit 1 with
a message on the first mismatch. With --first PNG... -- CURSOR LINE...: exit 0
at the first PNG that matches (printing it), 1 if none does."""
import os, struct, sys, zlib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import png_decode

def decode(path):
    """RGB PNGs whose rows use filters 0 and 2 (what rrvm writes) decoded a
    row at a time; anything else by png_decode."""
    data = open(path, 'rb').read()
    pos, idat, ihdr = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', data[pos + 8:pos + 8 + n])
        elif kind == b'IDAT': idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    raw, stride = zlib.decompress(idat), w * 3 + 1
    if depth != 8 or ctype != 2 or interlace or any(raw[y * stride] not in (0, 2) for y in range(h)):
        return png_decode.decode(path)
    prev, rows = bytes(stride - 1), []
    for y in range(h):
        line = raw[y * stride + 1:(y + 1) * stride]
        if raw[y * stride] == 2:
            line = bytes(map(lambda a, b: (a + b) & 255, line, prev))
        rows.append(line)
        prev = line
    return w, h, b''.join(rows)

class Mismatch(Exception):
    pass

def check(path, cursor, lines):
    w, h, rgb = decode(path)
    if (w, h) not in ((720, 400), (640, 400)):
        raise Mismatch(f'{path}: {w}x{h} is not an 80x25 text screen (720x400 or 640x400)')
    cw = w // 80
    blank_row = rgb[0:3] * cw
    def cell(r, c):
        rows = tuple(rgb[(y * w + c * cw) * 3:(y * w + c * cw + cw) * 3] for y in range(r * 16, r * 16 + 16))
        return rows, any(row != blank_row for row in rows)
    glyphs, seen = {}, {}
    lit = 0
    for r in range(25):
        text = lines[r] if r < len(lines) else ''
        for c in range(80):
            if (r, c) == cursor:
                continue
            ch = text[c] if c < len(text) else ' '
            g, lit_cell = cell(r, c)
            if ch == ' ':
                if lit_cell:
                    raise Mismatch(f'{path}: cell row {r} column {c} should be blank')
                continue
            lit += 1
            if not lit_cell:
                raise Mismatch(f'{path}: cell row {r} column {c} is blank, expected {ch!r}')
            if glyphs.setdefault(ch, g) != g:
                raise Mismatch(f'{path}: {ch!r} at row {r} column {c} differs from the same character elsewhere')
            if seen.setdefault(g, ch) != ch:
                raise Mismatch(f'{path}: {ch!r} at row {r} column {c} looks like {seen[g]!r}')
    print(f'{path}: {len(lines)} lines, {lit} characters, {len(glyphs)} distinct glyphs')

def main():
    args = sys.argv[1:]
    if args and args[0] == '--first':
        split = args.index('--')
        pngs, rest = args[1:split], args[split + 1:]
    else:
        pngs, rest = args[:1], args[1:]
    cursor, lines = tuple(int(v) for v in rest[0].split(',')), rest[1:]
    last = None
    for path in pngs:
        try:
            check(path, cursor, lines)
            return
        except Mismatch as e:
            last = e
    sys.exit(str(last))

main()
