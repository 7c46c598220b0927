; Mode 13h (320x200x256, chain-4) through the legacy window at 0xA0000.
; Draws colour = x/20 + 16*(y/25) with a DAC ramp (r = i&63, g = i>>2, b = 63-(i&63)).
; Sector 1 is the boot stub (guests/include/boot.inc): rrvm starts the whole
; image at 0x7C00, a BIOS loads the rest of it and both arrive at main.
%include "boot.inc"
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
  mov si, mode13
  call load_regs
  ; DAC ramp
  xor cx, cx
.dac:
  mov al, cl
  mov bl, cl
  and bl, 63
  mov bh, cl
  shr bh, 2
  push cx
  mov ch, 63
  sub ch, bl
  mov al, cl
  mov cl, ch
  call set_dac
  pop cx
  inc cx
  cmp cx, 256
  jb .dac
  ; pixels
  mov ax, 0xA000
  mov es, ax
  xor di, di
  xor bx, bx                    ; y
.row:
  xor cx, cx                    ; x
.col:
  mov ax, cx
  mov dl, 20
  div dl                        ; al = x/20
  mov ah, al
  push ax
  mov ax, bx
  mov dl, 25
  div dl                        ; al = y/25
  shl al, 4
  pop dx
  add al, dh
  stosb
  inc cx
  cmp cx, 320
  jb .col
  inc bx
  cmp bx, 200
  jb .row
  call screen_on
  jmp done

%include "common.inc"

mode13:
  REG REG_MISC, 0, 0x63
  REG REG_SEQ, 0x00, 0x01
  REG REG_SEQ, 0x01, 0x01
  REG REG_SEQ, 0x02, 0x0F
  REG REG_SEQ, 0x03, 0x00
  REG REG_SEQ, 0x04, 0x0E
  REG REG_SEQ, 0x00, 0x03
  REG REG_CRTC, 0x11, 0x0E      ; unprotect
  REG REG_CRTC, 0x00, 0x5F
  REG REG_CRTC, 0x01, 0x4F
  REG REG_CRTC, 0x02, 0x50
  REG REG_CRTC, 0x03, 0x82
  REG REG_CRTC, 0x04, 0x54
  REG REG_CRTC, 0x05, 0x80
  REG REG_CRTC, 0x06, 0xBF
  REG REG_CRTC, 0x07, 0x1F
  REG REG_CRTC, 0x08, 0x00
  REG REG_CRTC, 0x09, 0x41
  REG REG_CRTC, 0x0C, 0x00
  REG REG_CRTC, 0x0D, 0x00
  REG REG_CRTC, 0x10, 0x9C
  REG REG_CRTC, 0x12, 0x8F
  REG REG_CRTC, 0x13, 0x28
  REG REG_CRTC, 0x14, 0x40
  REG REG_CRTC, 0x15, 0x96
  REG REG_CRTC, 0x16, 0xB9
  REG REG_CRTC, 0x17, 0xA3
  REG REG_CRTC, 0x18, 0xFF
  REG REG_CRTC, 0x1A, 0x00
  REG REG_CRTC, 0x1B, 0x00
  REG REG_CRTC, 0x1D, 0x00
  REG REG_GC, 0x00, 0x00
  REG REG_GC, 0x01, 0x00
  REG REG_GC, 0x02, 0x00
  REG REG_GC, 0x03, 0x00
  REG REG_GC, 0x04, 0x00
  REG REG_GC, 0x05, 0x40
  REG REG_GC, 0x06, 0x05
  REG REG_GC, 0x07, 0x0F
  REG REG_GC, 0x08, 0xFF
  REG REG_GC, 0x09, 0x00
  REG REG_GC, 0x0B, 0x00
  REG REG_ATTR, 0x00, 0x00
  REG REG_ATTR, 0x01, 0x01
  REG REG_ATTR, 0x02, 0x02
  REG REG_ATTR, 0x03, 0x03
  REG REG_ATTR, 0x04, 0x04
  REG REG_ATTR, 0x05, 0x05
  REG REG_ATTR, 0x06, 0x06
  REG REG_ATTR, 0x07, 0x07
  REG REG_ATTR, 0x08, 0x08
  REG REG_ATTR, 0x09, 0x09
  REG REG_ATTR, 0x0A, 0x0A
  REG REG_ATTR, 0x0B, 0x0B
  REG REG_ATTR, 0x0C, 0x0C
  REG REG_ATTR, 0x0D, 0x0D
  REG REG_ATTR, 0x0E, 0x0E
  REG REG_ATTR, 0x0F, 0x0F
  REG REG_ATTR, 0x10, 0x41
  REG REG_ATTR, 0x11, 0x00
  REG REG_ATTR, 0x12, 0x0F
  REG REG_ATTR, 0x13, 0x00
  REG REG_ATTR, 0x14, 0x00
  dw REG_END

BOOT_END
