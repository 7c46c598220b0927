; Cirrus linear modes through the LFB from 32-bit protected mode: 640x480
; 16 bpp (red/green/blue bars) then 800x600 8 bpp (palette grid, index =
; x/100 + 8*((y/100)&1)), all registers programmed by hand.
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
  lgdt [gdt_desc]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp 0x08:pm

%include "common.inc"

bits 32
; ext_mode: ESI -> register table (reuses the 16-bit loader's format)
load_regs32:
.next:
  lodsw
  test ax, ax
  jz .end
  mov dx, ax
  lodsw
  cmp dx, REG_MISC
  je .misc
  out dx, al
  inc dx
  mov al, ah
  out dx, al
  jmp .next
.misc:
  mov al, ah
  out dx, al
  jmp .next
.end:
  mov dx, 0x3DA
  in al, dx
  mov dx, 0x3C0
  mov al, 0x20
  out dx, al
  ret

; hidden DAC: four reads of 0x3C6, then the write goes to the hidden register
set_hidden_dac:                 ; BL = value
  mov dx, 0x3C6
  in al, dx
  in al, dx
  in al, dx
  in al, dx
  mov al, bl
  out dx, al
  ret

pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x7C00
  ; --- 640x480, 16 bpp (5:6:5) ---
  mov bl, 0xC1
  call set_hidden_dac
  mov esi, mode640x16
  call load_regs32
  mov edi, LFB_BASE
  xor ebx, ebx                  ; y
.r16:
  xor ecx, ecx                  ; x
.c16:
  mov ax, 0xF800
  cmp ecx, 213
  jb .put16
  mov ax, 0x07E0
  cmp ecx, 426
  jb .put16
  mov ax, 0x001F
.put16:
  stosw
  inc ecx
  cmp ecx, 640
  jb .c16
  inc ebx
  cmp ebx, 480
  jb .r16
  mov dx, 0xE9
  mov al, '1'
  out dx, al
  mov al, 10
  out dx, al
  ; --- 800x600, 8 bpp ---
  mov bl, 0x00
  call set_hidden_dac
  mov esi, mode800x8
  call load_regs32
  xor ecx, ecx                  ; palette: i -> (4i, 63-4i, 8i & 63)
.pal:
  mov dx, 0x3C8
  mov al, cl
  out dx, al
  inc dx
  mov al, cl
  shl al, 2
  out dx, al
  mov al, 63
  mov ah, cl
  shl ah, 2
  sub al, ah
  out dx, al
  mov al, cl
  shl al, 3
  and al, 63
  out dx, al
  inc ecx
  cmp ecx, 16
  jb .pal
  mov edi, LFB_BASE
  xor ebx, ebx
.r8:
  mov eax, ebx
  xor edx, edx
  mov ebp, 100
  div ebp
  and eax, 1
  shl eax, 3
  mov esi, eax                  ; 8 * ((y/100) & 1)
  xor ecx, ecx
.c8:
  mov eax, ecx
  xor edx, edx
  div ebp
  add eax, esi
  stosb
  inc ecx
  cmp ecx, 800
  jb .c8
  inc ebx
  cmp ebx, 600
  jb .r8
  jmp done32

done32:
  mov esi, done_msg
  mov dx, 0xE9
.p:
  lodsb
  test al, al
  jz .x
  out dx, al
  jmp .p
.x:
  xor al, al
  mov dx, 0xF4
  out dx, al
.h:
  cli
  hlt
  jmp .h

%macro EXTMODE 5   ; name-less body: width/8-1, vde, offset, sr7, cr1b
  REG REG_MISC, 0, 0xE3
  REG REG_SEQ, 0x06, 0x12
  REG REG_SEQ, 0x01, 0x01
  REG REG_SEQ, 0x02, 0x0F
  REG REG_SEQ, 0x04, 0x0E
  REG REG_SEQ, 0x07, %4
  REG REG_CRTC, 0x11, 0x00
  REG REG_CRTC, 0x01, %1
  REG REG_CRTC, 0x12, (%2 & 0xFF)
  REG REG_CRTC, 0x07, (((%2 >> 8) & 1) << 1) | (((%2 >> 9) & 1) << 6) | 0x10
  REG REG_CRTC, 0x09, 0x40
  REG REG_CRTC, 0x0C, 0
  REG REG_CRTC, 0x0D, 0
  REG REG_CRTC, 0x13, (%3 & 0xFF)
  REG REG_CRTC, 0x17, 0xC3
  REG REG_CRTC, 0x18, 0xFF
  REG REG_CRTC, 0x1B, %5
  REG REG_CRTC, 0x1D, 0x00
  REG REG_GC, 0x05, 0x40
  REG REG_GC, 0x06, 0x01
  dw REG_END
%endmacro

mode640x16: EXTMODE 79, 479, 160, 0x07, 0x02
mode800x8:  EXTMODE 99, 599, 100, 0x01, 0x02

align 8
gdt:
  dq 0
  dq 0x00CF9A000000FFFF         ; 0x08 flat code
  dq 0x00CF92000000FFFF         ; 0x10 flat data
gdt_desc:
  dw gdt_desc - gdt - 1
  dd gdt

BOOT_END
