#!/usr/bin/env python3
"""test/report/png.py: read the PNG screenshots of test/report/run (no PIL).

    python3 png.py info FILE            width height and pixel statistics
    python3 png.py pixel FILE X Y       the RGB colour of one pixel
    python3 png.py crop FILE X Y W H OUT   write a cropped copy (to look at)

Decodes 8-bit RGB and RGBA non-interlaced PNGs (what Chromium writes).
"""
import struct
import sys
import zlib


def read(path):
    """(width, height, channels, rows of bytes) of a PNG file."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG file')
    pos, idat, width = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError('unsupported PNG: depth %d colour %d interlace %d' % (depth, colour, interlace))
            channels = 3 if colour == 2 else 4
        elif kind == b'IDAT':
            idat += body
        elif kind == b'IEND':
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, channels, rows


def pixel(img, x, y):
    width, height, channels, rows = img
    return tuple(rows[y][x * channels:x * channels + 3])


def stats(img):
    """(share of pixels unlike the top-left one, number of distinct colours) on a grid of samples."""
    width, height, channels, rows = img
    bg = pixel(img, 0, 0)
    seen, differ, total = set(), 0, 0
    for y in range(0, height, 3):
        for x in range(0, width, 3):
            p = pixel(img, x, y)
            seen.add(p)
            total += 1
            if max(abs(p[i] - bg[i]) for i in range(3)) > 24:
                differ += 1
    return differ / total, len(seen)


def write(path, width, height, rows):
    raw = b''.join(b'\x00' + bytes(r) for r in rows)
    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


if __name__ == '__main__':
    cmd, path = sys.argv[1], sys.argv[2]
    img = read(path)
    if cmd == 'info':
        share, colours = stats(img)
        print(img[0], img[1], '%.4f' % share, colours)
    elif cmd == 'pixel':
        print('%d %d %d' % pixel(img, int(sys.argv[3]), int(sys.argv[4])))
    elif cmd == 'crop':
        x, y, w, h = (int(v) for v in sys.argv[3:7])
        ch = img[2]
        write(sys.argv[7], w, h, [bytes(b for i in range(x, x + w) for b in img[3][yy][i * ch:i * ch + 3]) for yy in range(y, y + h)])
