; The BitBLT engine driven as a console driver drives it, from real mode
; through the graphics-controller ports (GR00-GR33 at 0x3CE/0x3CF), on a
; 640x480 16 bpp (5:6:5) linear mode; system-to-screen data goes through the
; legacy window at 0xA0000. Each blit is started with GR31 bit 1 and the
; guest polls GR31 bit 0 (busy) until it clears. Screens, two vertical
; retraces (~33 ms, one 30 Hz sample) apart:
;   1. solid fills: a dark-blue screen, red/green/yellow rectangles, a bar;
;   2. the font (and an 8x8 hatch) uploaded off screen by a system-to-screen
;      copy, then text colour-expanded from video (opaque, a blit a glyph),
;      and lines colour-expanded from CPU data (transparent over the
;      rectangles, and opaque; a blit a line);
;   3. a forward video-to-video copy of the rectangles, then an overlapping
;      copy of that down and right, done backwards;
;   4. raster operations: an XOR fill band across the copies, a NOT-DST fill,
;      a transparent colour-expanded hatch pattern, an XOR block cursor;
;   5. the lower text area scrolled up one glyph row by a copy, the freed
;      row cleared.
; Sector 1 is the boot stub (guests/include/boot.inc): rrvm starts the whole
; image at 0x7C00, a BIOS loads the rest of it and both arrive at main.
%include "boot.inc"
%define PITCH      1280                     ; 640 pixels, 2 bytes each
%define XY(x, y)   ((y) * PITCH + (x) * 2)
%define LAST(x, y, w, h) (XY((x) + (w) - 1, (y) + (h) - 1) + 1)  ; last byte of a rect
%define CPU_BUF    0x1000                   ; RAM: a line of glyph rows
%define FONT_VRAM  0x96000                  ; just past the visible 614400 bytes
%define HATCH_VRAM (FONT_VRAM + 96 * 16)
; GR30 modes
%define M_BACK     0x01
%define M_SYSSRC   0x04
%define M_TRANS    0x08
%define M_16BPP    0x10
%define M_PATTERN  0x40
%define M_EXPAND   0x80
%define ROP_SRC    0x0D
%define ROP_XOR    0x59
%define ROP_NOTDST 0x0B

; blit parameter block: what blit writes to GR20-GR33, GR00/01/10/11
%macro BLK 11  ; width bytes, height, dst pitch, src pitch, dst, src, mode, rop, modeext, fg, bg
  dw (%1) - 1, (%2) - 1, %3, %4
  dd %5, %6
  db %7, %8, %9, 0
  dw %10, %11
%endmacro
%define B_DST  8
%define B_SRC  12
%define B_MODE 16
%define B_FG   20
%define B_BG   22

main:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7C00
  cld
  call setup_pci
  mov dx, 0x3C6                 ; hidden DAC: 5:6:5
  in al, dx
  in al, dx
  in al, dx
  in al, dx
  mov al, 0xC1
  out dx, al
  mov si, mode640x16
  call load_regs
  call screen_on
  mov ax, 0xA000
  mov es, ax
  ; --- screen 1: solid fills ---
  mov si, fills1
  call blit_list
  call wait2
  ; --- screen 2: font upload, expanded text ---
  mov si, upload
  call blit                     ; waits for CPU data
  mov si, font_ascii
  xor di, di
  mov cx, 96 * 16 / 4
  rep movsd
  mov si, hatch                 ; the hatch right after the font
  mov cx, 2
  rep movsd
  call blt_wait
  mov si, s_title
  mov ebp, XY(40, 160)
  mov bx, blk_vglyph
  call text_video
  mov si, s_trans
  mov ebp, XY(48, 82)
  mov bx, blk_cline_t
  call text_cpu
  mov si, s_opaque
  mov ebp, XY(40, 180)
  mov bx, blk_cline
  call text_cpu
  call wait2
  ; --- screen 3: copies ---
  mov si, copies
  call blit_list
  call wait2
  ; --- screen 4: raster operations ---
  mov si, rops
  call blit_list
  call wait2
  ; --- screen 5: scroll ---
  mov si, s_scroll
  mov ebp, XY(40, 440)
  mov bx, blk_vglyph
  call text_video
  call wait_retrace
  mov si, scroll
  call blit_list
  call wait2
  mov si, s_serial
  mov dx, 0xE9
.say:
  lodsb
  test al, al
  jz .end
  out dx, al
  jmp .say
.end:
  jmp done

; blit_list: DS:SI -> blocks back to back, ended by a zero word
blit_list:
  cmp word [si], 0
  je .end
  call blit
  add si, 24
  jmp blit_list
.end:
  ret

; blit: DS:SI -> parameter block. Programs the engine and starts it; unless
; the source is system memory, polls until the engine is idle.
blit:
  pushad
  mov dx, 0x3CE
  mov bx, si
  mov cx, 0x0820                ; GR20-GR27: width, height, pitches
  call gr_run
  mov cx, 0x0328                ; GR28-GR2A: destination
  call gr_run
  inc bx
  mov cx, 0x032C                ; GR2C-GR2E: source
  call gr_run
  inc bx
  mov al, 0x30
  mov ah, [si + B_MODE]
  out dx, ax
  mov al, 0x32
  mov ah, [si + B_MODE + 1]
  out dx, ax
  mov al, 0x33
  mov ah, [si + B_MODE + 2]
  out dx, ax
  mov al, 0x01                  ; foreground GR01/GR11, background GR00/GR10
  mov ah, [si + B_FG]
  out dx, ax
  mov al, 0x11
  mov ah, [si + B_FG + 1]
  out dx, ax
  mov al, 0x00
  mov ah, [si + B_BG]
  out dx, ax
  mov al, 0x10
  mov ah, [si + B_BG + 1]
  out dx, ax
  mov ax, 0x0231                ; start
  out dx, ax
  test byte [si + B_MODE], M_SYSSRC
  jnz .out
  call blt_wait
.out:
  popad
  ret

; gr_run: CL first GR index, CH count, DS:BX bytes (advanced); DX = 0x3CE
gr_run:
  mov al, cl
  mov ah, [bx]
  out dx, ax
  inc bx
  inc cl
  dec ch
  jnz gr_run
  ret

; blt_wait: polls GR31 until the engine is no longer busy
blt_wait:
  push ax
  push dx
  mov dx, 0x3CE
  mov al, 0x31
  out dx, al
  inc dx
.poll:
  in al, dx
  test al, 0x01
  jnz .poll
  pop dx
  pop ax
  ret

; text_video: DS:SI text, EBP destination, DS:BX block; one blit a glyph,
; colour-expanded from the font uploaded at FONT_VRAM.
text_video:
  lodsb
  test al, al
  jz .end
  movzx eax, al
  sub eax, 0x20
  shl eax, 4
  add eax, FONT_VRAM
  mov [bx + B_SRC], eax
  mov [bx + B_DST], ebp
  push si
  mov si, bx
  call blit
  pop si
  add ebp, 16                   ; 8 pixels
  jmp text_video
.end:
  ret

; text_cpu: DS:SI text, EBP destination, DS:BX block; one blit for the
; whole line, as a console driver's image blit does: the glyph rows gathered
; in RAM (row y: byte y of each glyph in turn), then written to the legacy
; window as CPU data, a dword a store.
text_cpu:
  push es
  xor ax, ax
  mov es, ax
  xor dx, dx                    ; length
.len:
  mov di, si
  add di, dx
  cmp byte [di], 0
  je .counted
  inc dx
  jmp .len
.counted:
  mov ax, dx
  shl ax, 4                     ; 8 pixels, 2 bytes each
  dec ax
  mov [bx], ax                  ; GR20/21: width - 1
  mov [bx + B_DST], ebp
  mov di, CPU_BUF
.ch:
  lodsb
  test al, al
  jz .composed
  push si
  push di
  movzx si, al
  sub si, 0x20
  shl si, 4
  add si, font_ascii
  mov cx, 16
.row:
  movsb
  add di, dx
  dec di
  loop .row
  pop di
  pop si
  inc di
  jmp .ch
.composed:
  mov si, bx
  call blit                     ; returns waiting for the data
  mov ax, 0xA000
  mov es, ax
  mov si, CPU_BUF
  xor di, di
  mov cx, dx
  shl cx, 2                     ; 16 bytes a glyph, 4 a store
  rep movsd
  call blt_wait
  pop es
  ret

%include "common.inc"

mode640x16:
  REG REG_MISC, 0, 0xE3
  REG REG_SEQ, 0x06, 0x12       ; unlock the extensions
  REG REG_SEQ, 0x01, 0x01
  REG REG_SEQ, 0x02, 0x0F
  REG REG_SEQ, 0x04, 0x0E
  REG REG_SEQ, 0x07, 0x07       ; linear, 16 bpp
  REG REG_CRTC, 0x11, 0x00
  REG REG_CRTC, 0x01, 79        ; 640 dots
  REG REG_CRTC, 0x12, 479 & 0xFF
  REG REG_CRTC, 0x07, 0x12      ; VDE bit 8, line compare bit 8
  REG REG_CRTC, 0x09, 0x40
  REG REG_CRTC, 0x0C, 0
  REG REG_CRTC, 0x0D, 0
  REG REG_CRTC, 0x13, PITCH / 8
  REG REG_CRTC, 0x17, 0xC3
  REG REG_CRTC, 0x18, 0xFF
  REG REG_CRTC, 0x1B, 0x02
  REG REG_CRTC, 0x1D, 0x00
  REG REG_GC, 0x05, 0x40
  REG REG_GC, 0x06, 0x01
  REG REG_GC, 0x0B, 0x00
  dw REG_END

%define C_BG     0x0009                     ; dark blue
%define C_RED    0xF800
%define C_GREEN  0x07E0
%define C_YELLOW 0xFFE0
%define C_WHITE  0xFFFF
%define C_DRED   0x8000
%define C_CYAN   0x07FF
%define C_MAG    0xF81F
%define FILL     (M_EXPAND | M_PATTERN | M_16BPP)

fills1:
  BLK PITCH, 480, PITCH, 0, 0, 0, FILL, ROP_SRC, 0x04, C_BG, 0
  BLK 160 * 2, 100, PITCH, 0, XY(40, 40), 0, FILL, ROP_SRC, 0x04, C_RED, 0
  BLK 160 * 2, 100, PITCH, 0, XY(240, 40), 0, FILL, ROP_SRC, 0x04, C_GREEN, 0
  BLK 160 * 2, 100, PITCH, 0, XY(440, 40), 0, FILL, ROP_SRC, 0x04, C_YELLOW, 0
  BLK PITCH, 4, PITCH, 0, XY(0, 150), 0, FILL, ROP_SRC, 0x04, C_WHITE, 0
  dw 0

; the font and the hatch as one row of CPU data, no expansion
upload:
  BLK 96 * 16 + 8, 1, 96 * 16 + 8, 0, FONT_VRAM, 0, M_SYSSRC | M_16BPP, ROP_SRC, 0, 0, 0

blk_vglyph:   ; 8x16 glyph from video, opaque white on dark red (1-byte source rows)
  BLK 16, 16, PITCH, 1, 0, 0, M_EXPAND | M_16BPP, ROP_SRC, 0, C_WHITE, C_DRED
blk_cline_t:  ; a line from CPU data (width set per line), transparent black
  BLK 16, 16, PITCH, 0, 0, 0, M_EXPAND | M_SYSSRC | M_TRANS | M_16BPP, ROP_SRC, 0, 0x0000, 0
blk_cline:    ; a line from CPU data, opaque yellow on blue
  BLK 16, 16, PITCH, 0, 0, 0, M_EXPAND | M_SYSSRC | M_16BPP, ROP_SRC, 0, C_YELLOW, 0x001F

copies:
  ; forward: the rectangles band (40,40)-(600,140) to (40,220)
  BLK 560 * 2, 100, PITCH, PITCH, XY(40, 220), XY(40, 40), M_16BPP, ROP_SRC, 0, 0, 0
  ; overlapping, 24 right and 12 down: backwards, from the last byte
  BLK 560 * 2, 100, PITCH, PITCH, LAST(64, 232, 560, 100), LAST(40, 220, 560, 100), M_BACK | M_16BPP, ROP_SRC, 0, 0, 0
  dw 0

rops:
  BLK 600 * 2, 30, PITCH, 0, XY(20, 260), 0, FILL, ROP_XOR, 0x04, C_WHITE, 0
  BLK 100 * 2, 60, PITCH, 0, XY(520, 240), 0, FILL, ROP_NOTDST, 0x04, 0, 0
  BLK 560 * 2, 50, PITCH, 0, XY(40, 350), HATCH_VRAM, FILL, ROP_SRC, 0, C_MAG, 0
  BLK 560 * 2, 40, PITCH, 0, XY(60, 370), HATCH_VRAM, FILL | M_TRANS, ROP_SRC, 0, C_CYAN, 0
  BLK 16, 16, PITCH, 0, XY(40 + 8 * 17, 180), 0, FILL, ROP_XOR, 0x04, C_WHITE, 0
  dw 0

scroll:
  BLK PITCH, 480 - 176, PITCH, PITCH, XY(0, 160), XY(0, 176), M_16BPP, ROP_SRC, 0, 0, 0
  BLK PITCH, 16, PITCH, 0, XY(0, 464), 0, FILL, ROP_SRC, 0x04, C_BG, 0
  dw 0

s_title:  db "Cirrus GD5446 BitBLT: glyphs expanded from video", 0
s_trans:  db "CPU data, transparent", 0
s_opaque: db "CPU data, opaque     ", 0
s_scroll: db "this row and those below scroll up one glyph row", 0
s_serial: db "cirrus-blt: 5 screens", 10, 0

hatch:        ; 8x8 pattern for colour expansion: a diagonal hatch
  db 0x81, 0x42, 0x24, 0x18, 0x18, 0x24, 0x42, 0x81

%include "font8x16.inc"

BOOT_END
