; 80x25 colour text mode (BIOS mode 3 registers, 8-dot cells: 640x400),
; programmed by hand: the 8x16 font loaded into plane 2 through sequential
; access at 0xA0000, text and attributes through odd/even at 0xB8000, blink
; off so all 16 background colours show. The screen then changes over guest
; time, two vertical retraces (~33 ms, one 30 Hz sample) apart:
;   1. title bar, attribute samples, colour bars, a double-line box, a
;      prompt with an underline cursor;
;   2. "dir" typed one key a retrace, the cursor following;
;   3. a listing, a block cursor on the next prompt;
;   4. the picture scrolled two rows by the CRTC start address;
;   5. the cursor hidden.
; Few legacy-window writes (each is an MMIO exit on kvm): dword stores for
; the clear and the font.
; Sector 1 is the boot stub (guests/include/boot.inc): rrvm starts the whole
; image at 0x7C00, a BIOS loads the rest of it and both arrive at main.
%include "boot.inc"
%define CELL(r, c) (((r) * 80 + (c)) * 2)
main:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7C00
  cld
  call setup_pci
  ; leave Cirrus extended modes
  mov dx, 0x3C4
  mov ax, 0x1206
  out dx, ax
  mov ax, 0x0007
  out dx, ax
  mov si, mode03
  call load_regs
  ; DAC: the 16 CGA colours at the indices the attribute table names
  mov si, dac16
.dac:
  lodsb
  cmp al, 0xFF
  je .font
  mov bl, [si]
  mov bh, [si + 1]
  mov cl, [si + 2]
  add si, 3
  call set_dac
  jmp .dac
.font:
  ; plane 2 only, sequential addressing, 0xA0000 64 KiB
  mov si, font_on
  call load_regs
  mov ax, 0xA000
  mov es, ax
  mov si, font_ascii
  mov di, 0x20 * 32
  mov bx, 0x80 - 0x20
  call load_glyphs
  mov si, font_box
  mov di, 0xB0 * 32
  mov bx, 0xE0 - 0xB0
  call load_glyphs
  mov si, font_off
  call load_regs
  ; --- screen 1 ---
  mov ax, 0xB800
  mov es, ax
  xor di, di
  mov eax, 0x07200720           ; grey spaces, two cells a store
  mov cx, 80 * 28 / 2           ; two spare rows below for the scroll
  rep stosd
  mov di, CELL(0, 0)
  mov ax, 0x1F20                ; title bar: white on blue
  mov cx, 80
  rep stosw
  mov di, CELL(0, 2)
  mov ah, 0x1F
  mov si, s_title
  call puts
  mov si, lines                 ; attribute samples: db attr, row, col, text, 0
.line:
  lodsb
  test al, al
  jz .bars
  mov ah, al
  lodsb
  mov bl, al
  lodsb
  mov bh, al
  call cell_of
  call puts
  jmp .line
.bars:
  ; backgrounds 0-15 (spaces), then foregrounds 0-15 (full blocks)
  mov di, CELL(13, 0)
  xor bx, bx
.bg:
  mov ah, bl
  shl ah, 4
  mov al, ' '
  mov cx, 5
  rep stosw
  inc bx
  cmp bx, 16
  jb .bg
  mov di, CELL(14, 0)
  xor bx, bx
.fg:
  mov ah, bl
  mov al, 0xDB
  mov cx, 4
  rep stosw
  mov al, 0xB1                  ; a shade between, fg on black
  stosw
  inc bx
  cmp bx, 16
  jb .fg
  ; double-line box, yellow on cyan
  mov di, CELL(16, 50)
  mov ax, 0x3EC9
  stosw
  mov al, 0xCD
  mov cx, 26
  rep stosw
  mov al, 0xBB
  stosw
  mov di, CELL(17, 50)
  mov al, 0xBA
  stosw
  mov di, CELL(17, 77)
  stosw
  mov di, CELL(18, 50)
  mov al, 0xC8
  stosw
  mov al, 0xCD
  mov cx, 26
  rep stosw
  mov al, 0xBC
  stosw
  mov di, CELL(17, 51)
  mov ah, 0x3E
  mov si, s_box
  call puts
  mov di, CELL(20, 0)
  mov ah, 0x07
  mov si, s_prompt
  call puts
  mov bx, 20 * 80 + 5
  call set_cursor
  call screen_on
  call wait2
  ; --- screen 2: type "dir" ---
  mov si, s_dir
  mov di, CELL(20, 5)
  mov bx, 20 * 80 + 6
.key:
  lodsb
  test al, al
  jz .typed
  mov ah, 0x0F
  stosw
  call set_cursor               ; a VGA register write: the new cell is sampled
  inc bx
  call wait_retrace
  jmp .key
.typed:
  call wait2
  ; --- screen 3: listing, block cursor ---
  mov si, listing
.list:
  lodsb
  test al, al
  jz .listed
  mov ah, al
  lodsb
  mov bl, al
  lodsb
  mov bh, al
  call cell_of
  call puts
  jmp .list
.listed:
  mov dx, 0x3D4
  mov ax, 0x000A                ; cursor rows 0-15: a block
  out dx, ax
  mov ax, 0x0F0B
  out dx, ax
  mov bx, 25 * 80 + 5
  call set_cursor
  call wait2
  ; --- screen 4: scroll two rows through the start address ---
  mov dx, 0x3D4
  mov ax, 0x000C
  out dx, ax
  mov ax, ((2 * 80) << 8) | 0x0D
  out dx, ax
  call wait2
  ; --- screen 5: cursor off ---
  mov dx, 0x3D4
  mov ax, 0x200A
  out dx, ax
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

; load_glyphs: DS:SI 16-byte glyphs, ES:DI plane-2 slot (32 bytes a glyph), BX count
load_glyphs:
  mov cx, 4
  rep movsd
  add di, 16
  dec bx
  jnz load_glyphs
  ret

; cell_of: BL row, BH column -> DI byte offset in the text buffer
cell_of:
  push ax
  mov al, 80
  mul bl
  add al, bh
  adc ah, 0
  shl ax, 1
  mov di, ax
  pop ax
  ret

; puts: DS:SI zero-terminated text, AH attribute, ES:DI cell
puts:
  lodsb
  test al, al
  jz .end
  stosw
  jmp puts
.end:
  ret

; set_cursor: BX cell index (CRTC 0x0E/0x0F)
set_cursor:
  push ax
  push dx
  mov dx, 0x3D4
  mov al, 0x0E
  mov ah, bh
  out dx, ax
  mov al, 0x0F
  mov ah, bl
  out dx, ax
  pop dx
  pop ax
  ret


%include "common.inc"

mode03:
  REG REG_MISC, 0, 0x67
  REG REG_SEQ, 0x00, 0x01
  REG REG_SEQ, 0x01, 0x01       ; 8-dot cells
  REG REG_SEQ, 0x02, 0x03
  REG REG_SEQ, 0x03, 0x00       ; font at plane-2 offset 0
  REG REG_SEQ, 0x04, 0x02
  REG REG_SEQ, 0x00, 0x03
  REG REG_CRTC, 0x11, 0x0E      ; unprotect
  REG REG_CRTC, 0x00, 0x5F
  REG REG_CRTC, 0x01, 0x4F
  REG REG_CRTC, 0x02, 0x50
  REG REG_CRTC, 0x03, 0x82
  REG REG_CRTC, 0x04, 0x55
  REG REG_CRTC, 0x05, 0x81
  REG REG_CRTC, 0x06, 0xBF
  REG REG_CRTC, 0x07, 0x1F
  REG REG_CRTC, 0x08, 0x00
  REG REG_CRTC, 0x09, 0x4F      ; 16 scan lines a row
  REG REG_CRTC, 0x0A, 0x0E      ; cursor rows 14-15
  REG REG_CRTC, 0x0B, 0x0F
  REG REG_CRTC, 0x0C, 0x00
  REG REG_CRTC, 0x0D, 0x00
  REG REG_CRTC, 0x0E, 0x00
  REG REG_CRTC, 0x0F, 0x00
  REG REG_CRTC, 0x10, 0x9C
  REG REG_CRTC, 0x12, 0x8F      ; 400 lines
  REG REG_CRTC, 0x13, 0x28      ; 80 words a row
  REG REG_CRTC, 0x14, 0x1F
  REG REG_CRTC, 0x15, 0x96
  REG REG_CRTC, 0x16, 0xB9
  REG REG_CRTC, 0x17, 0xA3
  REG REG_CRTC, 0x18, 0xFF
  REG REG_CRTC, 0x1A, 0x00
  REG REG_CRTC, 0x1B, 0x00
  REG REG_CRTC, 0x1D, 0x00
  REG REG_CRTC, 0x11, 0x8E
  REG REG_GC, 0x00, 0x00
  REG REG_GC, 0x01, 0x00
  REG REG_GC, 0x02, 0x00
  REG REG_GC, 0x03, 0x00
  REG REG_GC, 0x04, 0x00
  REG REG_GC, 0x05, 0x10        ; odd/even
  REG REG_GC, 0x06, 0x0E        ; text, 0xB8000 32 KiB, chain odd/even
  REG REG_GC, 0x07, 0x00
  REG REG_GC, 0x08, 0xFF
  REG REG_ATTR, 0x00, 0x00
  REG REG_ATTR, 0x01, 0x01
  REG REG_ATTR, 0x02, 0x02
  REG REG_ATTR, 0x03, 0x03
  REG REG_ATTR, 0x04, 0x04
  REG REG_ATTR, 0x05, 0x05
  REG REG_ATTR, 0x06, 0x14
  REG REG_ATTR, 0x07, 0x07
  REG REG_ATTR, 0x08, 0x38
  REG REG_ATTR, 0x09, 0x39
  REG REG_ATTR, 0x0A, 0x3A
  REG REG_ATTR, 0x0B, 0x3B
  REG REG_ATTR, 0x0C, 0x3C
  REG REG_ATTR, 0x0D, 0x3D
  REG REG_ATTR, 0x0E, 0x3E
  REG REG_ATTR, 0x0F, 0x3F
  REG REG_ATTR, 0x10, 0x04      ; text, line graphics, blink off
  REG REG_ATTR, 0x11, 0x00
  REG REG_ATTR, 0x12, 0x0F
  REG REG_ATTR, 0x13, 0x08
  REG REG_ATTR, 0x14, 0x00
  dw REG_END

font_on:
  REG REG_SEQ, 0x02, 0x04
  REG REG_SEQ, 0x04, 0x06
  REG REG_GC, 0x04, 0x02
  REG REG_GC, 0x05, 0x00
  REG REG_GC, 0x06, 0x04
  dw REG_END

font_off:
  REG REG_SEQ, 0x02, 0x03
  REG REG_SEQ, 0x04, 0x02
  REG REG_GC, 0x04, 0x00
  REG REG_GC, 0x05, 0x10
  REG REG_GC, 0x06, 0x0E
  dw REG_END

; db DAC index, r, g, b (6-bit); ends with 0xFF
dac16:
  db 0x00, 0, 0, 0
  db 0x01, 0, 0, 42
  db 0x02, 0, 42, 0
  db 0x03, 0, 42, 42
  db 0x04, 42, 0, 0
  db 0x05, 42, 0, 42
  db 0x14, 42, 21, 0
  db 0x07, 42, 42, 42
  db 0x38, 21, 21, 21
  db 0x39, 21, 21, 63
  db 0x3A, 21, 63, 21
  db 0x3B, 21, 63, 63
  db 0x3C, 63, 21, 21
  db 0x3D, 63, 21, 63
  db 0x3E, 63, 63, 21
  db 0x3F, 63, 63, 63
  db 0xFF

s_title:  db "rrvm cirrus-text: 80x25 VGA text, 8x16 font in plane 2", 0
s_box:    db " Cirrus Logic CL-GD5446   ", 0   ; 26 cells, columns 51-76
s_prompt: db "C:\> ", 0
s_dir:    db "dir", 0
s_serial: db "cirrus-text: 5 screens", 10, 0

; db attr, row, column, text, 0; ends with 0
lines:
  db 0x0C, 2, 2, "Light red on black", 0
  db 0x0A, 3, 2, "Light green on black", 0
  db 0x0E, 4, 2, "Yellow on black", 0
  db 0x0B, 5, 2, "Light cyan on black", 0
  db 0x4F, 6, 2, " White on red ", 0
  db 0x2F, 7, 2, " White on green ", 0
  db 0x70, 8, 2, " Black on grey ", 0
  db 0xE1, 9, 2, " Blue on yellow (bright background, blink off) ", 0
  db 0x5E, 10, 2, " Yellow on magenta ", 0
  db 0x07, 12, 0, "Backgrounds 0-15, then foregrounds 0-15:", 0
  db 0

listing:
  db 0x07, 21, 1, "Volume in drive C is RRVM", 0
  db 0x0B, 22, 1, "CIRRUS   ASM     7412", 0
  db 0x0B, 23, 1, "FONT8X16 INC     2304", 0
  db 0x0E, 24, 1, "2 file(s)", 0
  db 0x07, 25, 0, "C:\> ", 0
  db 0x0A, 26, 0, "(rows 25 and 26 show once the start address moves)", 0
  db 0

%include "font8x16.inc"

BOOT_END
