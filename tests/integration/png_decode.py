#!/usr/bin/env python3
"""Independent PNG decoder (zlib only) for 8-bit RGB/RGBA non-interlaced PNGs.
Usage: png_decode.py FILE [FILE2]  -- prints "WIDTHxHEIGHT"; with FILE2, exits
1 unless both decode to the same size and the same RGB pixels."""
import struct, sys, zlib

def decode(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError(path + ': not a PNG')
    pos, idat, ihdr = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0]:
            raise ValueError(path + ': bad CRC in ' + kind.decode())
        if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT': idat += body
        elif kind == b'IEND': break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(path + ': unsupported PNG format')
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rgb = zlib.decompress(idat), w * bpp, bytearray(w * bpp), bytearray()
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif f != 0: raise ValueError(path + ': bad filter type')
        rgb += line if bpp == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3)
        prev = line
    return w, h, bytes(rgb)

if __name__ == '__main__':
    first = decode(sys.argv[1])
    print('%dx%d' % first[:2])
    if len(sys.argv) > 2 and decode(sys.argv[2]) != first:
        sys.exit(1)
