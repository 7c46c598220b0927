; garbage: hostile-guest smoke test. In 32-bit protected mode with interrupts
; off, it writes xorshift32 values (fixed seed) to every I/O port 0..0xFFFF,
; each with a width of 1, 2 or 4 bytes taken from the sequence, and reads the
; port back; then it does the same on two unmapped MMIO pages. The VMM must
; survive all of it. Afterwards the guest re-initialises the PIC and UART,
; prints how many ports it wrote, and exits with EXIT_SURVIVED.
;
; Ports left out, because writing them ends the run or lets a PC device
; write into RAM on a full PC (QEMU); the list is what the expected port
; count (65536 minus these) is derived from:
;   0x0060, 0x0064      i8042: reset pulse / output-port reset line
;   0x0092              port 92: fast reset
;   0x00B2              APM control: SMI into firmware
;   0x00E9              debug console (the output channel)
;   0x00F4-0x00F7       debug exit (the exit channel)
;   0x0170-0x0177, 0x01F0-0x01F7, 0x0376, 0x03F6   IDE: commands could DMA
;   0x03F0-0x03F5, 0x03F7                          floppy: commands could DMA
;   0x0600-0x063F, 0xB000-0xB03F  ACPI PM blocks: sleep/power-off
;   0x0CF9              reset control register
; A wide access that would touch one of them is narrowed to one byte. So are
; wide accesses to the COM1 ports 0x3F8-0x3FF: QEMU 7.2's 16550 aborts on
; them (an assertion), which would end the QEMU cross-check.
%include "boot.inc"

CODE32 equ 0x08
DATA32 equ 0x10
XORSHIFT_SEED equ 0xC0DEFACE
MMIO_PAGE_A equ 0xD0000000              ; in the PCI hole, nothing decodes it
MMIO_PAGE_B equ 0xF0000000
EXIT_SURVIVED equ 0x2A

main:
    lgdt [gdt_descriptor]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp CODE32:pm_entry

gdt:
    dq 0
    dq 0x00CF9B000000FFFF
    dq 0x00CF93000000FFFF
gdt_descriptor:
    dw gdt_descriptor - gdt - 1
    dd gdt

bits 32
pm_entry:
    mov ax, DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, 0x7C00
    mov dword [rng], XORSHIFT_SEED

    xor edx, edx                       ; port
.port:
    call next_random
    call width_from_random             ; ECX = 1, 2 or 4
    lea ebx, [edx + ecx - 1]
    cmp ebx, 0xFFFF
    jbe .fits
    mov ecx, 1
.fits:
    mov ebp, byte_only
    call touches_range
    jnc .wide_ok
    mov ecx, 1
.wide_ok:
    mov ebp, exclusions
    call touches_range
    jnc .write
    mov ecx, 1
    call touches_range
    jc .skip
.write:
    inc dword [ports_written]
    cmp ecx, 2
    je .w2
    ja .w4
    out dx, al
    in al, dx
    jmp .skip
.w2:
    out dx, ax
    in ax, dx
    jmp .skip
.w4:
    out dx, eax
    in eax, dx
.skip:
    inc edx
    cmp edx, 0x10000
    jb .port

    mov edi, MMIO_PAGE_A
    call mmio_page
    mov edi, MMIO_PAGE_B
    call mmio_page

    mov al, 0xFF                       ; everything masked again
    mov ah, 0xFF
    call pic_init
    call uart_init
    PRINT 10, "garbage: survived, ports written: "
    mov eax, [ports_written]
    call put_dec
    PRINT ", MMIO writes: "
    mov eax, [mmio_written]
    call put_dec
    PRINT 10
    EXIT EXIT_SURVIVED

; mmio_page: EDI = page; one write and one read every 4 bytes.
mmio_page:
    mov esi, 1024
.next:
    call next_random
    call width_from_random
    cmp ecx, 2
    je .m2
    ja .m4
    mov [edi], al
    mov al, [edi]
    jmp .done
.m2:
    mov [edi], ax
    mov ax, [edi]
    jmp .done
.m4:
    mov [edi], eax
    mov eax, [edi]
.done:
    inc dword [mmio_written]
    add edi, 4
    dec esi
    jnz .next
    ret

; next_random: EAX = the next xorshift32 value.
next_random:
    push ebx
    mov eax, [rng]
    mov ebx, eax
    shl ebx, 13
    xor eax, ebx
    mov ebx, eax
    shr ebx, 17
    xor eax, ebx
    mov ebx, eax
    shl ebx, 5
    xor eax, ebx
    mov [rng], eax
    pop ebx
    ret

; width_from_random: top two bits of EAX -> ECX: 0,1 -> 1; 2 -> 2; 3 -> 4.
width_from_random:
    mov ecx, eax
    shr ecx, 30
    cmp ecx, 2
    jae .wide
    mov ecx, 1
    ret
.wide:
    je .two
    mov ecx, 4
    ret
.two:
    mov ecx, 2
    ret

; touches_range: EDX = port, ECX = width, EBP = table (dword count, then
; inclusive [lo, hi] word pairs) -> CF set if [EDX, EDX+ECX) meets a range.
touches_range:
    push eax
    push ebx
    push esi
    lea ebx, [edx + ecx - 1]           ; last port touched
    lea esi, [ebp + 4]
    mov eax, [ebp]
    lea eax, [esi + eax * 4]
    push eax                           ; table end
.range:
    cmp esi, [esp]
    jae .clear
    movzx eax, word [esi]              ; lo
    cmp ebx, eax
    jb .next
    movzx eax, word [esi + 2]          ; hi
    cmp edx, eax
    ja .next
    stc
    jmp .out
.next:
    add esi, 4
    jmp .range
.clear:
    clc
.out:
    lea esp, [esp + 4]                 ; drop the table end, keep CF
    pop esi
    pop ebx
    pop eax
    ret

exclusions:                            ; see the top
    dd (exclusions_end - exclusions - 4) / 4
    dw 0x0060, 0x0060
    dw 0x0064, 0x0064
    dw 0x0092, 0x0092
    dw 0x00B2, 0x00B2
    dw 0x00E9, 0x00E9
    dw 0x00F4, 0x00F7
    dw 0x0170, 0x0177
    dw 0x01F0, 0x01F7
    dw 0x0376, 0x0376
    dw 0x03F0, 0x03F7
    dw 0x0600, 0x063F
    dw 0x0CF9, 0x0CF9
    dw 0xB000, 0xB03F
exclusions_end:
byte_only:
    dd 1
    dw 0x03F8, 0x03FF

align 4
rng: dd 0
ports_written: dd 0
mmio_written: dd 0

%include "console.inc"
%include "pic.inc"
BOOT_END
