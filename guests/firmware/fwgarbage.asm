; fwgarbage: a boot disk that writes pseudo-random bytes to the firmware
; machine's devices: fw_cfg (selector, data, the DMA address registers), the
; i8042 (data and command ports, minus the commands that reset), the ATA channels,
; the floppy controller, the DMA controllers, then the i440FX PAM registers
; through 0xCF8/0xCFC (which can take the BIOS away: nothing after that uses
; it). rrvm must survive and record/replay it exactly; the guest reports on
; COM1 and exits with status 0 (rrvm: 1).
%include "boot.inc"

ROUNDS equ 64

main:
    call uart_init
    PRINT "fwgarbage: start", 10
    mov dword [seed], 0x2545F491
    mov bp, ROUNDS
.round:
    mov si, ports
.port:
    lodsw
    test ax, ax
    jz .next_round
    mov dx, ax
    call random
    cmp dx, 0x64                       ; i8042 command port: no output-port
    jne .write                         ; writes (D1h) or pulses (F0h-FFh),
    cmp al, 0xC0                       ; which would reset the machine
    jb .write
    mov al, 0xAA                       ; a self-test instead
.write:
    out dx, al
    cmp dx, 0x511                      ; fw_cfg data: word and dword writes too
    je .wide
    cmp dx, 0x518
    je .wide
    jmp .reads
.wide:
    call random
    out dx, ax
    call random
    out dx, eax
.reads:
    in al, dx
    in ax, dx
    jmp .port
.next_round:
    dec bp
    jnz .round
    PRINT "fwgarbage: devices survived", 10

    ; PAM0-PAM6 (i440FX config 0x59-0x5F) and the PIIX3 routes with garbage.
    mov cx, 16
.pam:
    call random
    mov ebx, eax
    mov eax, 0x80000058                ; 00:00.0 config dword 0x58
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    mov eax, ebx
    out dx, eax
    call random
    mov ebx, eax
    mov eax, 0x8000005C
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    mov eax, ebx
    out dx, eax
    call random
    mov ebx, eax
    mov eax, 0x80000860                ; 00:01.0 config 0x60: PIRQ routes
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    mov eax, ebx
    out dx, eax
    loop .pam
    PRINT "fwgarbage: done", 10
    EXIT 0

; random: EAX = the next xorshift32 value.
random:
    mov eax, [seed]
    mov ebx, eax
    shl ebx, 13
    xor eax, ebx
    mov ebx, eax
    shr ebx, 17
    xor eax, ebx
    mov ebx, eax
    shl ebx, 5
    xor eax, ebx
    mov [seed], eax
    ret

seed: dd 0
; fw_cfg, fw_cfg DMA, i8042, ATA primary and secondary, device control, the
; floppy controller (DOR, data FIFO, CCR), DMA channel 2 and its page, the
; DMA mask/mode registers; 0 ends the list.
ports: dw 0x510, 0x511, 0x514, 0x518, 0x51B, 0x60, 0x64
       dw 0x1F0, 0x1F1, 0x1F2, 0x1F3, 0x1F4, 0x1F5, 0x1F6, 0x1F7, 0x3F6
       dw 0x170, 0x172, 0x176, 0x177, 0x376
       dw 0x3F2, 0x3F5, 0x3F7, 0x04, 0x05, 0x81, 0x0A, 0x0B, 0x0C, 0xD4, 0xD6
       dw 0

%include "console.inc"
BOOT_END
