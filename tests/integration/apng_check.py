#!/usr/bin/env python3
"""Checks `rrvm frames --animation` output with an independent decoder (Pillow).
Usage: apng_check.py ANIMATION FRAMES_DIR DISPLAY_FRAMES_JSONL
FRAMES_DIR holds the frame-NNNNNN.png files written in the same run;
DISPLAY_FRAMES_JSONL is `rrvm dump --kind display-frame --json TRACE`, whose
Nth line is display frame N (its guest time in "ns").
Exits 1, saying why, unless the animation has one frame per PNG, in order,
each frame (composited by Pillow, on a canvas as large as the largest frame,
black outside the frame) pixel-identical to its PNG, and each shown for the
guest time until the next PNG's frame (the last one for 1 s)."""
import json, os, re, sys

from PIL import Image

LAST_FRAME_MS = 1000.0


def delay_tolerance_ms(ms):
    # The writer rounds to 1/10000 s below 6.5535 s, to 1/1000 s below 65.535 s...
    unit = 0.1
    while ms / unit > 65535:
        unit *= 10
    return unit / 2 + 1e-6


def main(animation, frames_dir, jsonl):
    names = sorted(n for n in os.listdir(frames_dir) if re.fullmatch(r'frame-\d{6}\.png', n))
    if not names:
        sys.exit('no frame-NNNNNN.png files in ' + frames_dir)
    guest_ns = [json.loads(line)['ns'] for line in open(jsonl) if line.strip()]
    refs = [Image.open(os.path.join(frames_dir, n)).convert('RGB') for n in names]
    indices = [int(n[6:12]) for n in names]
    canvas = (max(r.width for r in refs), max(r.height for r in refs))

    anim = Image.open(animation)
    if anim.format != 'PNG' or not getattr(anim, 'is_animated', False):
        sys.exit('%s: not an animated PNG' % animation)
    if anim.n_frames != len(names):
        sys.exit('%s: %d frames, but %d PNGs written' % (animation, anim.n_frames, len(names)))
    if anim.size != canvas:
        sys.exit('%s: canvas %s, largest frame %s' % (animation, anim.size, canvas))
    for k, (name, ref) in enumerate(zip(names, refs)):
        anim.seek(k)
        want = Image.new('RGB', canvas)  # black
        want.paste(ref, (0, 0))
        if anim.convert('RGB').tobytes() != want.tobytes():
            sys.exit('%s: frame %d differs from %s (or the padding is not black)' % (animation, k, name))
        if k + 1 < len(names):
            expected_ms = (guest_ns[indices[k + 1]] - guest_ns[indices[k]]) / 1e6
        else:
            expected_ms = LAST_FRAME_MS
        got_ms = anim.info.get('duration')
        if got_ms is None or abs(got_ms - expected_ms) > delay_tolerance_ms(expected_ms):
            sys.exit('%s: frame %d shown for %s ms, guest time says %.4f ms' % (animation, k, got_ms, expected_ms))
    print('%d frames, canvas %dx%d' % (len(names), canvas[0], canvas[1]))


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
