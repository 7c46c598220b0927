; QEMU-only boot sector: lets the BIOS-less guests run under
; qemu-system-i386 -vga cirrus for reference screenshots. It moves itself to
; 0x0600, reads the guest (following sectors) to 0x7C00 and jumps there.
bits 16
org 0x0600
  cli
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x0600
  mov si, 0x7C00
  mov di, 0x0600
  mov cx, 256
  rep movsw
  jmp 0:relocated
relocated:
  sti
  mov ah, 0x02                  ; read sectors (CHS): 60 sectors from C0 H0 S2
  mov al, 60
  mov ch, 0
  mov cl, 2
  mov dh, 0
  mov bx, 0x7C00
  int 0x13
  jc $
  cli
  jmp 0:0x7C00
times 510-($-$$) db 0
dw 0xAA55
