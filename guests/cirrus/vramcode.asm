; Code that runs from video memory and is then rewritten by the device, not
; by the CPU: a routine copied into the Cirrus linear framebuffer prints the
; character in its `mov al, imm8`; the guest runs it, changes that byte
; through the legacy 0xA0000 window (the device writes VRAM), runs it again,
; changes it with a one-byte BitBLT (the blitter writes VRAM), runs it a third
; time. A backend that caches translated code must drop it for the pages a
; device writes: the debug console must read "vramcode: ABC".
%include "boot.inc"
main:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7C00
  cld
  call setup_pci
  ; SR7 bit 0: the 0xA0000 window addresses VRAM linearly (bank 0 at 0).
  mov dx, 0x3C4
  mov ax, 0x0107
  out dx, ax
  lgdt [gdt_desc]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp 0x08:pm

%include "common.inc"

bits 32
ROUTINE equ LFB_BASE + 0x1000          ; a page of its own in VRAM
ROUTINE_OFF equ 0x1000
SOURCE_OFF equ 0x3000                  ; the blit's one-byte source

pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x7C00
  mov esi, msg
  call print32
  mov esi, routine
  mov edi, ROUTINE
  mov ecx, routine_end - routine
  rep movsb
  call ROUTINE                         ; 'A'
  mov byte [0xA0000 + ROUTINE_OFF + 1], 'B'   ; the device writes VRAM
  call ROUTINE                         ; 'B'
  mov byte [LFB_BASE + SOURCE_OFF], 'C'
  ; BitBLT: 1x1 byte, VRAM to VRAM, forward, ROP SRCCOPY.
  mov esi, blit_regs
  mov dx, 0x3CE
.gr:
  lodsw
  test ax, ax
  jz .started
  out dx, ax
  jmp .gr
.started:
  mov al, 0x31
  out dx, al
  inc dx
.busy:
  in al, dx
  test al, 0x01
  jnz .busy
  call ROUTINE                         ; 'C'
  mov al, 10
  out 0xE9, al
  xor al, al
  out 0xF4, al
.halt:
  cli
  hlt
  jmp .halt

print32:                               ; ESI -> NUL-terminated text, to 0xE9
  lodsb
  test al, al
  jz .end
  out 0xE9, al
  jmp print32
.end:
  ret

routine:
  mov al, 'A'
  out 0xE9, al
  ret
routine_end:

msg: db "vramcode: ", 0
; GR index, value pairs (as words: index in the low byte); 0 ends.
blit_regs:
  dw 0x0020, 0x0021                    ; width - 1 = 0
  dw 0x0022, 0x0023                    ; height - 1 = 0
  dw 0x1024, 0x0025                    ; destination pitch 16
  dw 0x1026, 0x0027                    ; source pitch 16
  dw ((ROUTINE_OFF + 1) & 0xFF) << 8 | 0x28, ((ROUTINE_OFF + 1) >> 8 & 0xFF) << 8 | 0x29, 0x002A
  dw (SOURCE_OFF & 0xFF) << 8 | 0x2C, (SOURCE_OFF >> 8 & 0xFF) << 8 | 0x2D, 0x002E
  dw 0x0030                            ; mode: forward, VRAM source, 8 bpp
  dw 0x0D32                            ; ROP: source copy
  dw 0x0231                            ; start
  dw 0

gdt:
  dq 0
  dq 0x00CF9A000000FFFF                ; 0x08 flat code
  dq 0x00CF92000000FFFF                ; 0x10 flat data
gdt_desc:
  dw gdt_desc - gdt - 1
  dd gdt

BOOT_END
